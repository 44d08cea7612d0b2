"""Pick ranking weights on the benchmark without fooling ourselves: leave-one-persona-out and split halves.

    python bench/tune_ranking.py [--data ../shared/bench/dev] [--grid lexical=0.2,0.3,0.4 language=0,0.1]
                                 [--base lexical=0.3] [--no-diversity]

Score components are computed once per persona (matcher.ranking.score_candidates) and recombined for
every point of a small grid (matcher.ranking.combine), so a grid of a few hundred points takes seconds.

Reports, for the current settings (config/default.yaml + --base) and for the grid:
- the in-sample best point (optimistic: chosen and scored on the same personas);
- leave-one-persona-out: for each persona, the best point on the other nine, scored on that one;
- split halves: for every split of the personas into two halves, the best point on one half scored on
  the other, compared with the current settings on that same half.
Only weights that win out of sample are worth keeping; the held-out split has other personas and repos.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matcher.engine import MatchEngine  # noqa: E402
from matcher.models import Profile  # noqa: E402
from matcher.ranking import combine, diversify, score_candidates  # noqa: E402
from matcher.settings import load_settings  # noqa: E402
from matcher.snapshot import read_snapshot  # noqa: E402
from matcher.store import Database  # noqa: E402
from matcher.store.issues import upsert_issues  # noqa: E402

DEFAULT_GRID = {
    "lexical": [0.2, 0.3, 0.4, 0.5],
    "beginner_label": [0.0, 0.04, 0.08, 0.12],
    "language": [0.0, 0.05, 0.1, 0.15],
}


def parse_assignments(items: list[str]) -> dict[str, list[float]]:
    out = {}
    for item in items:
        key, _, values = item.partition("=")
        out[key.strip()] = [float(v) for v in values.split(",") if v.strip()]
    return out


def load_bench(data: Path):
    issues = read_snapshot(data / "issues.jsonl").issues
    profiles = [
        Profile(id=p["id"], skills=p["skills"], niche=p.get("niche", ""))
        for p in json.loads((data / "personas.json").read_text())
    ]
    qrels: dict[str, dict[str, int]] = {}
    for line in (data / "qrels.tsv").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            pid, url, grade = line.split("\t")[:3]
            qrels.setdefault(pid, {})[url] = int(grade)
    return issues, profiles, qrels


def _dcg(grades) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades))


def metrics(ranked: list[int], grades: np.ndarray) -> np.ndarray:
    """nDCG@10, P@1, P@5, MRR exactly as ../shared/bench/score.py computes them."""
    got = [int(grades[i]) for i in ranked]
    ideal = _dcg(sorted(grades.tolist(), reverse=True)[:10])
    ndcg = _dcg(got[:10]) / ideal if ideal > 0 else 0.0
    rr = next((1 / (k + 1) for k, g in enumerate(got) if g >= 2), 0.0)
    return np.array([ndcg, float(bool(got) and got[0] >= 2), sum(g >= 2 for g in got[:5]) / 5, rr])


class Bench:
    """Per-persona score components, computed once; `evaluate(settings)` ranks and scores every persona."""

    def __init__(self, data: Path, diversity: bool = True, top: int = 20):
        self.settings = load_settings()
        issues, profiles, qrels = load_bench(data)
        self.issues, self.profiles = issues, profiles
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{tmp}/bench.sqlite")
            upsert_issues(db, issues)
            engine = MatchEngine(db, self.settings)
            pool = engine.candidates()
            queries = engine.queries(profiles)
        order = {i.url: k for k, i in enumerate(pool.issues)}
        self.repos = [i.repo for i in pool.issues]
        self.urls = [i.url for i in pool.issues]
        self.grades = {p.id: np.zeros(len(pool.issues), dtype=int) for p in profiles}
        for p in profiles:
            for url, grade in qrels.get(p.id, {}).items():
                if url in order:
                    self.grades[p.id][order[url]] = grade
        self.ids = [p.id for p in profiles if (self.grades[p.id] >= 1).any()]
        now = datetime.now(UTC)
        self.parts = {}
        for p, q in zip(profiles, queries, strict=True):
            _, parts = score_candidates(
                q, pool, settings=self.settings.ranking, labels=engine.catalog.labels, now=now
            )
            self.parts[p.id] = parts
        self.diversity, self.top = diversity, top

    def evaluate(self, ranking) -> dict[str, np.ndarray]:
        out = {}
        for pid in self.ids:
            score = combine(self.parts[pid], ranking)
            order = sorted(range(len(score)), key=lambda i: (-score[i], self.urls[i]))
            if self.diversity:
                order = diversify(order, self.repos, ranking.max_per_repo, self.top)
            out[pid] = metrics(order[: self.top], self.grades[pid])
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "dev")
    parser.add_argument(
        "--grid", nargs="*", default=[], help="key=v1,v2,... (default: a small built-in grid)"
    )
    parser.add_argument(
        "--base", nargs="*", default=[], help="key=value overrides of the current settings"
    )
    parser.add_argument("--no-diversity", action="store_true")
    args = parser.parse_args()

    bench = Bench(args.data, diversity=not args.no_diversity)
    base = bench.settings.ranking.model_copy(
        update={k: v[0] for k, v in parse_assignments(args.base).items()}
    )
    grid = parse_assignments(args.grid) or DEFAULT_GRID
    keys = list(grid)
    points = [
        dict(zip(keys, values, strict=True))
        for values in itertools.product(*(grid[k] for k in keys))
    ]
    results = [bench.evaluate(base.model_copy(update=pt)) for pt in points]
    current = bench.evaluate(base)
    ids = bench.ids
    ndcg = np.array([[r[pid][0] for pid in ids] for r in results])  # points x personas

    def mean(res):
        return np.mean([res[pid] for pid in ids], axis=0)

    print(f"{len(bench.issues)} issues, {len(ids)} personas, {len(points)} grid points over {keys}")
    print(f"{'':34s} {'nDCG@10':>8s} {'P@1':>6s} {'P@5':>6s} {'MRR':>6s}")
    m = mean(current)
    print(f"{'current settings':34s} {m[0]:8.3f} {m[1]:6.2f} {m[2]:6.2f} {m[3]:6.3f}")
    best = int(np.argmax(ndcg.mean(axis=1)))
    m = mean(results[best])
    print(
        f"{'in-sample best (optimistic)':34s} {m[0]:8.3f} {m[1]:6.2f} {m[2]:6.2f} {m[3]:6.3f}  {points[best]}"
    )

    # Leave one persona out: choose on nine, score the tenth.
    held = []
    print("\nleave-one-persona-out (chosen on the other personas):")
    for k, pid in enumerate(ids):
        others = [j for j in range(len(ids)) if j != k]
        choice = int(np.argmax(ndcg[:, others].mean(axis=1)))
        held.append(results[choice][pid])
        print(
            f"    {pid:20s} {results[choice][pid][0]:.3f} (current {current[pid][0]:.3f})  {points[choice]}"
        )
    m = np.mean(held, axis=0)
    print(f"{'LOPO mean':34s} {m[0]:8.3f} {m[1]:6.2f} {m[2]:6.2f} {m[3]:6.3f}")

    # Split halves: choose on one half, score the other against the current settings there.
    gains, wins = [], 0
    half = len(ids) // 2
    for chosen in itertools.combinations(range(len(ids)), half):
        rest = [j for j in range(len(ids)) if j not in chosen]
        choice = int(np.argmax(ndcg[:, list(chosen)].mean(axis=1)))
        gain = ndcg[choice, rest].mean() - np.mean([current[ids[j]][0] for j in rest])
        gains.append(gain)
        wins += gain > 0
    gains = np.array(gains)
    print(
        f"\nsplit halves ({len(gains)} splits): out-of-half nDCG@10 gain over current "
        f"mean {gains.mean():+.3f}, median {np.median(gains):+.3f}, better in {wins}/{len(gains)}"
    )


if __name__ == "__main__":
    main()
