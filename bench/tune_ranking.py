"""Tune ranking weights so they carry to unseen repositories: cross-validation that holds out
whole repositories and learners.

    python bench/tune_ranking.py [--data ../shared/bench/dev] [--folds 4] [--repeats 3]
        [--base key=value ...] [--grid key=v1,v2 ...] [--candidate NAME=key=v,key=v ...]
        [--report] [--mode "with synonyms" | "simulated held-out" | "no synonyms"]

--report prints, per config, in-sample and held-out figures in three modes (see report()); the
"simulated held-out" one also takes away what an unseen repository and learner would not have
(label names only the held-out repositories use, synonyms written for the dev learners): it is
the figure to improve. --mode chooses what the held-out folds know for the other outputs.

Keys are RankingSettings fields (dense, lexical, beginner_label, hard_label, language, ...) or
the matcher.signals terms evaluated here by post-processing the product's scores:
  difficulty=W   subtract W * (difficulty - 0.5) (matcher.signals.difficulty)
  hard_rule=1    keep a hard-labelled issue below comparable beginner ones within
                 ranking.hard_label_margin (on by default; hard_rule=0 to compare)
ranking.task_fit (W * matcher.signals.task_fit: + the kind of work the learner's query terms
ask for, - generic kinds they do not) is the product's own "task" term.

The product's own code ranks: MatchEngine embeds the pool with the configured model (vectors
cached in --cache, so a second run encodes nothing) and builds the queries; for every pool
(matcher.ranking.pool.build_pool over the held-out rows), the one scorer's terms
(matcher.ranking.terms.term_values, the batch of every learner at once) are computed once, and
matcher.ranking.combine, the hard-label rule and select_top (the product's top-k with the
diversity cap) turn them into a ranking for any weights in seconds.

Cross-validation: repositories are split into --folds groups (--repeats times, with different
seeds); each test cell is (one repository group, one learner). The pool ranked for a cell holds
only the held-out repositories' issues, as an unseen catalogue would. With --grid, the weights
for a cell are chosen on the other repositories and the other learners, then scored on the cell.
Reported: in-sample (the whole dev pool), repo-held-out (mean over cells) and, with a grid,
the gap between the two.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import itertools
import json
import math
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from matcher.catalog import Labels, normalize_label  # noqa: E402
from matcher.engine import MatchEngine  # noqa: E402
from matcher.lexical import expand_query, load_synonyms  # noqa: E402
from matcher.models import Profile  # noqa: E402
from matcher.ranking import combine, fit_before_labels, select_top, task_type  # noqa: E402
from matcher.ranking.pool import Lexicon, Pool, build_pool, snapshot_of  # noqa: E402
from matcher.ranking.terms import term_values  # noqa: E402
from matcher.settings import RankingSettings, load_settings  # noqa: E402
from matcher.signals import (  # noqa: E402
    difficulty,
    difficulty_penalty,
    keep_hard_below_beginner,
)
from matcher.snapshot import read_snapshot  # noqa: E402
from matcher.store import Database  # noqa: E402
from matcher.store.issues import issues_by_url, upsert_issues  # noqa: E402

SIGNAL_KEYS = {"difficulty": 0.0, "hard_rule": 1.0}
SYNONYM_MODES = ("all", "general", "none")
# RankingSettings fields that change the score components, not only how they are weighed.
PART_KEYS = ("centre", "phrase_part", "implied_terms")

# config/synonyms.yaml keys as first written for the ten dev personas (git show 24630b0): an
# unseen learner's phrases have no entry written with them and their graded issues in view. The
# later entries ("beyond the dev personas") were written as general vocabulary; the simulated
# held-out keeps those only.
DEV_PERSONA_SYNONYMS = frozenset(
    key.strip()
    for key in """
    natural language processing|nlp|large language models|llm|llm apps|computer vision|
    vision|image augmentation|reinforcement learning|rl|audio|speech|speech recognition|
    mlops|model deployment|deployment|ci/cd|github actions|docker|kubernetes|documentation|
    technical writing|tutorials|markdown|sphinx|restructuredtext|hugging face|transformers|
    tokenizers|text classification|pytorch|tensorflow|numpy|pandas|scikit-learn|
    classical machine learning|statistics|model evaluation|tabular|time series|gymnasium|
    stable-baselines3|cuda|gpu kernels|c++|profiling|performance optimization|
    fast model inference|typescript|javascript|react|css|web front-ends|dashboards|
    data visualization|testing|pytest|type hints|graph neural networks|
    probabilistic programming|recommender systems|opencv|librosa|rust|go""".split("|")
)


def synonyms_for(mode: str) -> dict[str, tuple[str, ...]]:
    """The synonym table a learner's query is expanded with in each evaluation mode."""
    table = load_synonyms()
    if mode == "none":
        return {}
    if mode == "general":
        return {k: v for k, v in table.items() if " ".join(k.split()) not in DEV_PERSONA_SYNONYMS}
    return table


def unseen_labels(labels: Labels, issues: list, subset: tuple[int, ...]) -> Labels:
    """labels.yaml without the label names that, on dev, only the held-out repositories use.

    Such an entry may have been added after looking at those repositories; an unseen repository's
    own label names would be missing from the catalogue in the same way.
    """
    held = set(subset)
    seen_in: dict[str, set[bool]] = {}
    for k, issue in enumerate(issues):
        for name in issue.labels:
            seen_in.setdefault(normalize_label(name), set()).add(k in held)
    only_held = {name for name, where in seen_in.items() if where == {True}}
    return replace(
        labels,
        strengths={k: v for k, v in labels.strengths.items() if k not in only_held},
        hard=frozenset(labels.hard - only_held),
    )


METRICS = ("nDCG@10", "P@1", "P@5", "MRR")
DEFAULT_GRID = {
    "beginner_label": [0.08, 0.15, 0.25],
    "lexical": [0.3, 0.4, 0.5],
    "difficulty": [0.0, 0.1, 0.2],
}


@dataclass(frozen=True)
class Config:
    """Product weights plus the weights of the signals evaluated here."""

    ranking: RankingSettings
    signals: dict[str, float]

    def with_(self, update: dict[str, float]) -> Config:
        ranking = {k: v for k, v in update.items() if k not in SIGNAL_KEYS}
        signals = {k: v for k, v in update.items() if k in SIGNAL_KEYS}
        return Config(
            self.ranking.model_validate({**self.ranking.model_dump(), **ranking}),
            {**self.signals, **signals},
        )


def parse_assignments(items: list[str]) -> dict[str, list[float]]:
    out = {}
    for item in items:
        key, _, values = item.partition("=")
        out[key.strip()] = [float(v) for v in values.split(",") if v.strip()]
    return out


def _dcg(grades: list[int]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades))


def metrics(ranked: list[int], grades: np.ndarray) -> np.ndarray:
    """nDCG@10, P@1, P@5, MRR exactly as ../shared/bench/score.py computes them."""
    got = [int(grades[i]) for i in ranked]
    ideal = _dcg(sorted(grades.tolist(), reverse=True)[:10])
    ndcg = _dcg(got[:10]) / ideal if ideal > 0 else 0.0
    rr = next((1 / (k + 1) for k, g in enumerate(got) if g >= 2), 0.0)
    return np.array([ndcg, float(bool(got) and got[0] >= 2), sum(g >= 2 for g in got[:5]) / 5, rr])


class Bench:
    """The dev pool embedded once; score components per (pool, learner) computed once."""

    def __init__(
        self,
        data: Path,
        cache: Path,
        top: int = 20,
        synonyms: str = "all",
        labels_seen: bool = True,
    ):
        self.settings = load_settings()
        self.issues = read_snapshot(data / "issues.jsonl").issues
        self.profiles = [
            Profile(id=p["id"], skills=p["skills"], niche=p.get("niche", ""))
            for p in json.loads((data / "personas.json").read_text())
        ]
        cache.mkdir(parents=True, exist_ok=True)
        db = Database(f"sqlite:///{cache}/bench.sqlite")
        upsert_issues(db, self.issues)
        engine = MatchEngine(db, self.settings)
        pool = engine.candidates(only_urls={i.url for i in self.issues})
        # the stored issues, bodies and all (a pool's issue() leaves the body out), in pool order
        urls = [pool.issue(k).url for k in range(len(pool))]
        stored = {issue.url: issue for issue in issues_by_url(db, urls)}
        self.issues = [stored[url] for url in urls]
        self.vectors = pool.vectors
        self.lexicon = Lexicon()
        self.queries = engine.queries(self.profiles)
        if synonyms != "all":  # what config/synonyms.yaml adds, and what an unseen learner gets
            table = synonyms_for(synonyms)
            self.queries = [
                replace(q, terms=tuple(expand_query(p.query_text(), table, unique=False)))
                for p, q in zip(self.profiles, self.queries, strict=True)
            ]
        self.labels = engine.catalog.labels
        self.labels_seen = labels_seen
        self.repos = [i.repo for i in self.issues]
        self.urls = [i.url for i in self.issues]
        self.grades = self._grades(data / "qrels.tsv")
        self.difficulty = np.array([difficulty(i, self.labels, task_type(i)) for i in self.issues])
        self.now = datetime.now(UTC)
        self.top = top
        self._parts: dict[tuple, list[dict[str, np.ndarray]]] = {}
        self._snapshot = snapshot_of(self.issues, self.vectors, self.labels, self.lexicon)
        self._pools: dict[tuple[int, ...], Pool] = {}

    def variant(self, synonyms: str, labels_seen: bool) -> Bench:
        """The same embedded pool with other query expansion and label knowledge."""
        other = copy.copy(self)
        table = synonyms_for(synonyms)
        other.queries = [
            replace(q, terms=tuple(expand_query(p.query_text(), table, unique=False)))
            for p, q in zip(self.profiles, self.queries, strict=True)
        ]
        other.labels_seen = labels_seen
        other._parts = {}
        return other

    def _grades(self, qrels: Path) -> np.ndarray:
        """persona x issue grade matrix."""
        index = {u: k for k, u in enumerate(self.urls)}
        ids = {p.id: k for k, p in enumerate(self.profiles)}
        grades = np.zeros((len(self.profiles), len(self.urls)), dtype=int)
        for line in qrels.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                pid, url, grade = line.split("\t")[:3]
                if pid in ids and url in index:
                    grades[ids[pid], index[url]] = int(grade)
        return grades

    def parts(
        self,
        subset: tuple[int, ...],
        held_out: bool = False,
        ranking: RankingSettings | None = None,
    ) -> list[dict[str, np.ndarray]]:
        """Score components of every learner over a pool holding only `subset` issues.

        `held_out`: the pool stands for unseen repositories (labels_seen=False drops their labels).
        `ranking`: settings that change the components themselves (PART_KEYS) come from it.
        """
        ranking = ranking or self.settings.ranking
        unseen = held_out and not self.labels_seen
        shape = tuple(getattr(ranking, k) for k in PART_KEYS)
        key = (subset, unseen, shape)
        if key not in self._parts:
            idx = np.array(subset, dtype=np.int64)
            snapshot = self._snapshot
            if unseen:
                labels = unseen_labels(self.labels, self.issues, subset)
                snapshot = snapshot_of(self.issues, self.vectors, labels, self.lexicon)
            pool = build_pool(snapshot, idx)
            self._pools[subset] = pool
            values = term_values(
                pool, self.queries, settings=ranking, now=self.now, lexicon=self.lexicon
            )
            self._parts[key] = [
                {name: v[p] if v.shape[0] > 1 else v[0] for name, v in values.items()}
                for p in range(len(self.queries))
            ]
        return self._parts[key]

    def scores(
        self, config: Config, subset: tuple[int, ...], persona: int, held_out: bool = False
    ) -> np.ndarray:
        parts = self.parts(subset, held_out, config.ranking)[persona]
        score = combine({name: v[None, :] for name, v in parts.items()}, config.ranking)[0]
        idx = list(subset)
        weight = config.signals.get("difficulty", 0.0)
        if weight:
            score = score - weight * difficulty_penalty(self.difficulty[idx])
        if config.signals.get("hard_rule", 0.0):
            score = keep_hard_below_beginner(  # as matcher.ranking.score.rank_batch applies it
                score,
                fit_before_labels(parts, config.ranking),
                parts["hard"] > 0,
                parts["label"] > 0,
                config.ranking.hard_label_margin,
            )
        return score

    def evaluate(
        self, config: Config, subset: tuple[int, ...], persona: int, held_out: bool = False
    ) -> np.ndarray | None:
        """Metrics of one learner on one pool; None when nothing there is graded >= 1."""
        idx = list(subset)
        grades = self.grades[persona, idx]
        if not (grades >= 1).any():
            return None
        return metrics(self.ranked(config, subset, persona, held_out), grades)

    def ranked(
        self, config: Config, subset: tuple[int, ...], persona: int, held_out: bool = False
    ) -> list[int]:
        """The learner's top list over the pool, as positions in `subset`, best first."""
        score = self.scores(config, subset, persona, held_out)
        pool = self._pools[subset]
        return select_top(
            score,
            np.ones(len(subset), dtype=bool),
            pool.url_rank,
            pool.repos,
            top_k=self.top,
            max_per_repo=config.ranking.max_per_repo,
        )

    def mean(self, config: Config, subset: tuple[int, ...], personas: list[int]) -> np.ndarray:
        rows = [m for p in personas if (m := self.evaluate(config, subset, p)) is not None]
        return np.mean(rows, axis=0) if rows else np.full(4, np.nan)


def repo_folds(repos: list[str], folds: int, seed: int) -> list[tuple[int, ...]]:
    """Issue indices split into `folds` groups with every repository in exactly one group."""
    names = sorted(set(repos), key=lambda r: hashlib.sha256(f"{seed}:{r}".encode()).hexdigest())
    group = {r: k % folds for k, r in enumerate(names)}
    return [tuple(i for i, r in enumerate(repos) if group[r] == k) for k in range(folds)]


def cross_validate(
    bench: Bench, configs: list[Config], folds: int, repeats: int
) -> tuple[np.ndarray, np.ndarray]:
    """Repo-and-learner held-out metrics for each fixed config, and for choosing among them.

    Returns (per-config held-out means [configs x 4], chosen-config held-out mean [4]).
    """
    per_repeat, chosen = cross_validate_repeats(bench, configs, folds, repeats)
    return per_repeat.mean(axis=1), chosen.mean(axis=0)


def cross_validate_repeats(
    bench: Bench, configs: list[Config], folds: int, repeats: int
) -> tuple[np.ndarray, np.ndarray]:
    """As cross_validate, per repeat: ([configs x repeats x 4], chosen [repeats x 4])."""
    personas = list(range(len(bench.profiles)))
    fixed = np.zeros((len(configs), repeats, len(METRICS)))
    chosen = np.zeros((repeats, len(METRICS)))
    for seed in range(repeats):
        cells: list[list[np.ndarray]] = [[] for _ in configs]
        picked: list[np.ndarray] = []
        for test in repo_folds(bench.repos, folds, seed):
            train = tuple(sorted(set(range(len(bench.issues))) - set(test)))
            train_ndcg = (
                np.array([[_ndcg(bench.evaluate(c, train, p)) for p in personas] for c in configs])
                if len(configs) > 1
                else np.zeros((1, len(personas)))
            )
            for p in personas:
                cell = [bench.evaluate(c, test, p, held_out=True) for c in configs]
                if cell[0] is None:
                    continue
                for k, m in enumerate(cell):
                    cells[k].append(m)
                others = [q for q in personas if q != p]
                best = int(np.argmax(np.nanmean(train_ndcg[:, others], axis=1)))
                picked.append(cell[best])
        fixed[:, seed] = [np.mean(c, axis=0) for c in cells]
        chosen[seed] = np.mean(picked, axis=0)
    return fixed, chosen


def _ndcg(m: np.ndarray | None) -> float:
    return float("nan") if m is None else float(m[0])


def in_sample(bench: Bench, config: Config) -> np.ndarray:
    everything = tuple(range(len(bench.issues)))
    return bench.mean(config, everything, list(range(len(bench.profiles))))


def fmt(m: np.ndarray) -> str:
    return " ".join(f"{v:7.3f}" for v in m)


def default_data() -> Path:
    """../shared/bench/dev beside the checkout (or beside its worktree folder)."""
    for parent in ROOT.parents:
        if (parent / "shared" / "bench" / "dev").is_dir():
            return parent / "shared" / "bench" / "dev"
    return ROOT.parent / "shared" / "bench" / "dev"


MODES = {
    # name: (synonyms, labels of held-out repositories known)
    "with synonyms": ("all", True),
    "simulated held-out": ("general", False),
    "no synonyms": ("none", False),
}


def report(bench: Bench, named: dict[str, Config], folds: int, repeats: int) -> None:
    """The figures table: in-sample, repo-held-out, and the simulated held-out for each config.

    Simulated held-out = repositories held out (the pool holds only theirs), learners held out
    (with a grid, weights chosen on the others), labels.yaml without the names only the held-out
    repositories use, and synonyms only those not written for the dev personas. Held-out figures
    are the mean (and median) over repeats of the per-repeat mean over cells.
    """
    header = " ".join(f"{m:>7s}" for m in METRICS[:2])
    print(f"{'config':18s} {'mode':20s} in-sample {header} | held-out mean {header} | median")
    for mode, (synonyms, labels_seen) in MODES.items():
        variant = bench.variant(synonyms, labels_seen)
        per_repeat, _ = cross_validate_repeats(variant, list(named.values()), folds, repeats)
        for (name, config), held in zip(named.items(), per_repeat, strict=True):
            sample = in_sample(variant, config)[:2]
            mean, median = held.mean(axis=0)[:2], np.median(held, axis=0)[:2]
            print(
                f"{name:18s} {mode:20s}           {fmt(sample)} |               {fmt(mean)} "
                f"| {fmt(median)}"
            )


def failures(bench: Bench, config: Config, folds: int, repeats: int) -> None:
    """Each held-out cell whose first match is graded below 2: that issue, and the best-graded
    one it beat (its rank, both issues' score components); then how often each pattern occurs.
    These are the cases a change must fix to raise P@1."""
    seen: Counter[str] = Counter()
    for seed in range(repeats):
        for test in repo_folds(bench.repos, folds, seed):
            for p in range(len(bench.profiles)):
                if (bench.grades[p, list(test)] >= 1).any():
                    seen["cells"] += 1
                    seen.update(first_wrong(bench, config, test, p, f"[{seed}]"))
    print("\n".join(f"{count:4d}  {what}" for what, count in seen.items()))


def first_wrong(
    bench: Bench, config: Config, test: tuple[int, ...], persona: int, tag: str
) -> list[str]:
    """Print one cell whose first match is graded below 2; return the patterns it shows."""
    idx = list(test)
    grades = bench.grades[persona, idx]
    order = bench.ranked(config, test, persona, held_out=True)
    first = order[0]
    if grades[first] >= 2:
        return []
    parts = bench.parts(test, True, config.ranking)[persona]
    best = next((k for k in order if grades[k] == grades.max()), int(np.argmax(grades)))
    rank = str(order.index(best) + 1) if best in order else f">{len(order)}"
    print(f"{tag} {bench.profiles[persona].id}: pool {len(idx)}, grade {grades[best]} at {rank}")
    for name, k in (("1st ", first), ("best", best)):
        issue = bench.issues[idx[k]]
        part = " ".join(f"{n} {parts[n][k]:.2f}" for n in ("dense", "lexical", "label"))
        print(f"  {name} g{grades[k]} {part} | {issue.repo}: {issue.title[:60]}")
    patterns = {
        "wrong at rank 1": True,
        "no issue graded >= 2 in the pool": grades.max() < 2,
        f"1st graded {grades[first]}": True,
        "1st is the pool's best word match": parts["lexical"][first] >= 1,
        "1st beginner-labelled": parts["label"][first] > 0,
        "best beginner-labelled": parts["label"][best] > 0,
        "best has no word match": parts["lexical"][best] == 0,
        "best at rank 2": rank == "2",
    }
    return [what for what, shown in patterns.items() if shown]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "ml-first-issues-tune",
        help="where the embedded pool is kept between runs",
    )
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--base", nargs="*", default=[], help="key=value over the config")
    parser.add_argument("--grid", nargs="*", default=None, help="key=v1,v2 ...; '' = built-in")
    parser.add_argument(
        "--candidate", nargs="*", default=[], help="NAME=key=v,key=v fixed configs to compare"
    )
    parser.add_argument(
        "--no-synonyms", action="store_true", help="lexical terms without config/synonyms.yaml"
    )
    parser.add_argument(
        "--mode",
        choices=list(MODES),
        default="with synonyms",
        help="what the held-out folds know (the grid is chosen under it); see report()",
    )
    parser.add_argument(
        "--failures",
        action="store_true",
        help="held-out cells whose first match is wrong, for the last --candidate (or the default) "
        'under --mode (use "simulated held-out"); see failures()',
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="figures table: with synonyms, simulated held-out, no synonyms (see report())",
    )
    args = parser.parse_args()

    bench = Bench(args.data, args.cache)
    if args.no_synonyms or args.mode != "with synonyms":
        mode = "no synonyms" if args.no_synonyms else args.mode
        bench = bench.variant(*MODES[mode])
    base = Config(bench.settings.ranking, dict(SIGNAL_KEYS)).with_(
        {k: v[0] for k, v in parse_assignments(args.base).items()}
    )
    named = {"default": base}
    for item in args.candidate:
        name, _, spec = item.partition("=")
        named[name] = base.with_({k: v[0] for k, v in parse_assignments(spec.split(",")).items()})

    print(
        f"{len(bench.issues)} issues, {len(set(bench.repos))} repos, {len(bench.profiles)} "
        f"learners; {args.folds} repo folds x {args.repeats} repeats x leave-one-learner-out"
    )
    if args.report:
        report(bench, named, args.folds, args.repeats)
        return
    if args.failures:
        failures(bench, named[list(named)[-1]], args.folds, args.repeats)
        return
    header = " ".join(f"{m:>7s}" for m in METRICS)
    print(f"{'config':24s} in-sample {header}   | repo-held-out {header}")
    held, _ = cross_validate(bench, list(named.values()), args.folds, args.repeats)
    for (name, config), h in zip(named.items(), held, strict=True):
        print(row(name, in_sample(bench, config), h))

    if args.grid is None:
        return
    grid = parse_assignments([g for g in args.grid if g]) or DEFAULT_GRID
    keys = list(grid)
    points = [dict(zip(keys, v, strict=True)) for v in itertools.product(*grid.values())]
    configs = [base.with_(pt) for pt in points]
    sample = np.array([in_sample(bench, c) for c in configs])
    best = int(np.argmax(sample[:, 0]))
    held, chosen = cross_validate(bench, configs, args.folds, args.repeats)
    print(f"\ngrid of {len(points)} points over {keys}")
    print(row("in-sample best", sample[best], held[best], str(points[best])))
    top = int(np.argmax(held[:, 0]))
    print(row("held-out best (peek)", sample[top], held[top], str(points[top])))
    print(row("chosen on train folds", None, chosen))
    print(
        "(the honest figure for tuning is 'chosen on train folds': weights picked without the cell)"
    )


def row(name: str, sample: np.ndarray | None, held: np.ndarray, extra: str = "") -> str:
    """One line of the report: in-sample and repo-held-out metrics."""
    left = fmt(sample) if sample is not None else " " * 31
    return f"{name:24s}           {left}   |               {fmt(held)}  {extra}".rstrip()


if __name__ == "__main__":
    main()
