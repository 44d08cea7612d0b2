"""Ranking quality on the shared benchmark: the matcher against three baselines, scored by score.py.

    python bench/rank_quality.py [--data ../shared/bench/dev] [--top 20] [--per-profile]
                                 [--weights lexical=0.4,language=0.1] [--no-diversity]

Prints one table of nDCG@10, P@1, P@5 and MRR. Baselines: newest first, BM25 only (rank-bm25 Okapi
on repo + title + labels + body), embedding cosine only (the configured model). Tune on dev only.
"matcher" is the production path: MatchEngine.match_many over the warm index (the one scorer,
matcher.ranking.score.rank_batch), as the bot, the CLI and the digest rank.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matcher.engine import MatchEngine  # noqa: E402
from matcher.models import Profile  # noqa: E402
from matcher.settings import load_settings  # noqa: E402
from matcher.snapshot import read_snapshot  # noqa: E402
from matcher.store import Database  # noqa: E402
from matcher.store.issues import upsert_issues  # noqa: E402


def baseline_text(issue) -> str:
    return " ".join([issue.repo, issue.title, " ".join(issue.labels), issue.body[:2000]])


def newest_first(issues, profiles):
    order = sorted(
        issues, key=lambda i: i.created_at or datetime.min.replace(tzinfo=UTC), reverse=True
    )
    return {p.id: [i.url for i in order] for p in profiles}


def bm25_only(issues, profiles):
    from rank_bm25 import BM25Okapi

    def words(text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())

    index = BM25Okapi([words(baseline_text(i)) for i in issues])
    runs = {}
    for p in profiles:
        scores = index.get_scores(words(f"{p.skills} {p.niche}"))
        runs[p.id] = [issues[j].url for j in np.argsort(-scores, kind="stable")]
    return runs


def cosine_only(issues, profiles, embedder):
    docs = embedder.encode([baseline_text(i) for i in issues])
    queries = embedder.encode([f"{p.skills} {p.niche}" for p in profiles])
    return {
        p.id: [issues[j].url for j in np.argsort(-(docs @ q), kind="stable")]
        for p, q in zip(profiles, queries, strict=True)
    }


def score(qrels: Path, run: dict) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(run, handle)
    out = subprocess.run(
        [sys.executable, str(qrels.parent.parent / "score.py"), str(qrels), handle.name, "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    Path(handle.name).unlink()
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "dev")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--per-profile", action="store_true")
    parser.add_argument(
        "--weights", default="", help="ranking overrides, e.g. lexical=0.4,max_per_repo=3"
    )
    parser.add_argument(
        "--no-diversity", action="store_true", help="max_per_repo off (to measure its cost)"
    )
    args = parser.parse_args()
    if not (args.data / "issues.jsonl").exists():
        sys.exit(
            f"no benchmark data at {args.data}: "
            "pass --data DIR with issues.jsonl, personas.json, qrels.tsv"
        )

    settings = load_settings()
    overrides = dict(item.split("=", 1) for item in args.weights.split(",") if item.strip())
    if args.no_diversity:
        overrides["max_per_repo"] = str(args.top)
    if overrides:
        ranking = settings.ranking.model_validate({**settings.ranking.model_dump(), **overrides})
        settings = settings.model_copy(update={"ranking": ranking})
    issues = read_snapshot(args.data / "issues.jsonl").issues
    profiles = [
        Profile(id=p["id"], skills=p["skills"], niche=p.get("niche", ""))
        for p in json.loads((args.data / "personas.json").read_text())
    ]
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.sqlite")
        upsert_issues(db, issues)
        engine = MatchEngine(db, settings)
        now = datetime.now(UTC)
        # The benchmark pool stands for open candidates judged on fit, not age.
        indexed = engine.match_many(profiles, top_k=args.top, now=now)
        matcher_run = {pid: [m.issue.url for m in ms] for pid, ms in indexed.items()}
        embedder_name = engine.embedder.name
        runs = {
            "newest first": newest_first(issues, profiles),
            "BM25 only": bm25_only(issues, profiles),
            "embedding cosine only": cosine_only(issues, profiles, engine.embedder),
            "matcher": matcher_run,
        }
    qrels = args.data / "qrels.tsv"
    print(f"{len(issues)} issues, {len(profiles)} profiles, data {args.data}")
    print(f"embedding model {embedder_name} (MATCHER_MODEL={settings.model})")
    print(f"{'ranker':24s} {'nDCG@10':>8s} {'P@1':>6s} {'P@5':>6s} {'MRR':>6s}")
    for name, run in runs.items():
        result = score(qrels, run)
        m = result["mean"]
        print(f"{name:24s} {m['ndcg@10']:8.3f} {m['p@1']:6.2f} {m['p@5']:6.2f} {m['mrr']:6.3f}")
        if args.per_profile and name == "matcher":
            for pid, s in result["profiles"].items():
                print(f"    {pid:20s} {s['ndcg@10']:.3f} {s['p@1']:.2f} {s['p@5']:.2f}")


if __name__ == "__main__":
    main()
