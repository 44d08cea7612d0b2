"""What a sync costs: requests, GraphQL points, rate limit left and seconds for a first and a second
sync of 50 repositories x 20 beginner issues, against the local fake GitHub (no network needed).

    python bench/sync_cost.py [--repos 50] [--issues 20] [--batch 10] [--json]
        [--heavy-nodes 25000 [--heavy-answer 502|504|timeout|resource_limits]]

`--heavy-nodes N`: the fake gives up on queries above N of GitHub's nodes, as live GitHub does
on heavy ones (10 repositories x first:100 with nested fields failing, first:50 passing is
about 47,000 vs 23,500 nodes); the sync then shrinks its queries and keeps the size that works.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
