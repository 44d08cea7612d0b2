"""What a sync costs: requests, GraphQL points, rate limit left and seconds for a first and a second
sync of 50 repositories x 20 beginner issues, against the local fake GitHub (no network needed).

    python bench/sync_cost.py [--repos 50] [--issues 20] [--batch 10] [--json]
        [--heavy-nodes 25000 [--heavy-answer 502|504|timeout|resource_limits]]
    python bench/sync_cost.py --welcome [--welcome-batches 1,6,12,25] [--json]

`--heavy-nodes N`: the fake gives up on queries above N of GitHub's nodes, as live GitHub does
on heavy ones (10 repositories x first:100 with nested fields failing, first:50 passing is
about 47,000 vs 23,500 nodes); the sync then shrinks its queries and keeps the size that works.

`--welcome`: what the welcoming figures (matcher/github/welcome.py) cost for the repositories of
config/repos.yaml, by `github.welcome_repos_per_query` (1 = one query per repository): requests,
GraphQL points and GitHub's node count as the fake charges them, for the weekly sync that asks
them and for a sync within the week (which asks none).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher.catalog import load_catalog  # noqa: E402
from tests.fakes.github_fixtures import TOKEN, make_env  # noqa: E402
from tests.fakes.github_server import FakeGitHub  # noqa: E402

FIELDS = (
    "requests",
    "graphql_requests",
    "rest_requests",
    "not_modified",
    "graphql_points",
    "rate_limit_remaining",
    "added",
    "changed",
    "unchanged",
    "left_pool",
    "embedded",
    "shrinks",
    "issues_per_page",
    "repos_per_query",
    "seconds",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=50)
    parser.add_argument("--issues", type=int, default=20)
    parser.add_argument("--batch", type=int, default=10, help="github.repos_per_query")
    parser.add_argument("--heavy-nodes", type=int, default=None)
    parser.add_argument("--heavy-answer", default="502")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--welcome", action="store_true", help="the welcoming figures' cost")
    parser.add_argument("--welcome-batches", default="1,6,12,25")
    args = parser.parse_args()
    if args.welcome:
        print_welcome_cost([int(b) for b in args.welcome_batches.split(",")], args.json)
        return
    rows = {}
    with FakeGitHub(token=TOKEN) as server, tempfile.TemporaryDirectory() as tmp:
        server.heavy_nodes, server.heavy_answer = args.heavy_nodes, args.heavy_answer
        env = make_env(
            server,
            Path(tmp) / "store.sqlite",
            repos=args.repos,
            issues=args.issues,
            repos_per_query=args.batch,
        )
        rows["first sync"] = env.run()
        rows["second sync (nothing changed)"] = env.run()
        urls = sorted(server.state.issues)[:8]
        server.close_issue(urls[0])
        server.assign(urls[1])
        server.link_pr(urls[2])  # noqa: E702
        server.add_comment(urls[3], "Can I take this?")
        rows["third sync (4 issues taken)"] = env.run()
        env.db.close()
    if args.json:
        print(
            json.dumps({k: {f: getattr(r, f) for f in FIELDS} for k, r in rows.items()}, indent=1)
        )
        return
    print(
        f"{args.repos} repositories x {args.issues} beginner issues, "
        f"{args.batch} repositories per query"
    )
    print(
        f"{'':32}"
        + "".join(
            f"{f:>15}"
            for f in (
                "requests",
                "GraphQL points",
                "rate left",
                "stored+chg",
                "embedded",
                "shrinks",
                "size",
                "seconds",
            )
        )
    )
    for name, r in rows.items():
        size = f"{r.issues_per_page}x{r.repos_per_query}"
        print(
            f"{name:32}{r.requests:>15}{r.graphql_points:>15}{r.rate_limit_remaining:>15}"
            f"{r.added + r.changed:>15}{r.embedded:>15}{r.shrinks:>15}{size:>15}"
            f"{r.seconds:>15.2f}"
        )


def welcome_cost(batch: int) -> dict:
    """A sync of the catalogued repositories with the welcoming figures asked `batch` a query,
    then a sync within the week; what the welcoming queries cost, as the fake charged them."""
    catalog = load_catalog()
    names = [entry.repo for entry in catalog.repos]
    with FakeGitHub(token=TOKEN) as server, tempfile.TemporaryDirectory() as tmp:
        for name in names:
            server.add_repo(name)
            server.add_issue(name, "Fix a typo in the docs")
        env = make_env(
            server,
            Path(tmp) / "store.sqlite",
            repos=0,
            welcome_refresh_days=7,
            welcome_repos_per_query=batch,
        )
        env.catalog, env.repos = catalog, names
        weekly = env.run()
        charged = [(points, nodes) for op, points, nodes in server.stats.queries if op == "Welcome"]
        within = env.run()
        env.db.close()
    assert weekly.welcome_points == sum(p for p, _ in charged), "report and fake disagree"
    return {
        "repositories": len(names),
        "repos_per_query": batch,
        "stored": weekly.welcome_queries,
        "requests": weekly.welcome_requests,
        "points": weekly.welcome_points,
        "nodes": sum(n for _, n in charged),
        "largest_query_nodes": max((n for _, n in charged), default=0),
        "requests_within_the_week": within.welcome_requests,
        "failed": len(weekly.welcome_failed),
    }


def print_welcome_cost(batches: list[int], as_json: bool) -> None:
    rows = [welcome_cost(b) for b in batches]
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    print(
        f"welcoming figures of the {rows[0]['repositories']} catalogued repositories "
        "(config/repos.yaml), once a week"
    )
    heads = ("repos/query", "requests", "GraphQL points", "nodes", "largest query", "in the week")
    print("".join(f"{h:>15}" for h in heads))
    for r in rows:
        print(
            f"{r['repos_per_query']:>15}{r['requests']:>15}{r['points']:>15}{r['nodes']:>15,}"
            f"{r['largest_query_nodes']:>15,}{r['requests_within_the_week']:>15}"
        )


if __name__ == "__main__":
    main()
