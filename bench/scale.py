"""Scale: the warm ranking index on synthetic pools built from real issue text, against numpy.

    python bench/scale.py [--issues 1000,10000,50000] [--learners 1,100,10000] [--runs 30]
                          [--changes 5] [--profiles-run 400x5000] [--cache DIR]
                          [--vectors hashing|words]

For each pool size, in a fresh process: build a deterministic store (titles, bodies and labels of
the shared benchmark and demo issues, recombined per seed; 500 repositories; vectors stored as
if `import` had embedded them, from a seeded hashing embedder so 50,000 texts need no model),
then measure, as the bot runs the engine (refresh off the request path, change mark checked
at most every 2 s):
- warm-up: the index built from the store, ready to rank (MatchEngine.warm_up);
- one learner's warm latency in-process (median and p95, the refresh check included; one request
  a second, each with its own `now`);
- the next query after a change (one issue changed, then 256 new ones, as an import chunk joins),
  beside the steady median, and how long until the change is in the index;
- batch throughput through MatchEngine.match_many with digest-like feedback (learners/s);
- past ranking.candidates_above issues (MATCHER_RANKING__CANDIDATES_ABOVE moves it), the candidate
  stage's lists beside the exact scorer's for the same learners: recall@10, both latencies, the
  stage's own floor (the probed vectors read and multiplied) and the quantiser's build time;
- the change check (one read of the change counter), peak RSS and the index's own memory;
and print each target beside the numpy floor for the same sizes, measured in the same run with
the same BLAS thread setting (dense product plus argpartition top-k), with the ratio.
`--profiles-run 400x5000` also times `match --profiles`' path with the real model: ms per learner
beyond the first, each new profile encoded. Stores are cached in --cache between runs.
`--vectors words` stores vectors that follow the words (WordsEmbedder: texts sharing words are
close, as a model's are) in stores of their own; the default's seeded vectors have no clusters.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import hashlib
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matcher.engine import MatchEngine, blas_threads  # noqa: E402
from matcher.models import Feedback, Issue, Profile, text_hash  # noqa: E402
from matcher.ranking import Query, candidates  # noqa: E402
from matcher.ranking import pool as ranking_pool  # noqa: E402
from matcher.ranking.pool import GONE_SHARE  # noqa: E402
from matcher.ranking.vectors import widened  # noqa: E402
from matcher.settings import load_settings  # noqa: E402
from matcher.snapshot import demo_snapshot_path, read_snapshot  # noqa: E402
from matcher.store import Database  # noqa: E402
from matcher.store.issues import (  # noqa: E402
    change_mark,
    count_issues,
    issues_by_url,
    put_embeddings,
    upsert_issues,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)
DIM = 384
SKILLS = [
    "Python, PyTorch",
    "OpenCV, image augmentation",
    "Hugging Face transformers, tokenizers",
    "technical writing, Sphinx, Markdown",
    "C++, CUDA kernels",
    "TypeScript, React",
    "Gymnasium, stable-baselines3",
    "Docker, Kubernetes, GitHub Actions",
    "scikit-learn, pandas, numpy",
    "librosa, torchaudio",
    "LangChain, prompt engineering",
    "JAX, Flax",
    "Rust, Python bindings",
    "pytest, unit tests",
]
NICHES = ["computer vision", "NLP", "documentation", "MLOps", "audio", "tabular data", "LLM apps"]
LANGUAGES = ["Python", "Python", "Python", "C++", "TypeScript", "Jupyter Notebook", "Rust", None]
REPOS = [f"org{n % 97}/project{n}" for n in range(500)]
REPO_INDEX = {repo: n for n, repo in enumerate(REPOS)}


class HashingEmbedder:
    """Seeded unit vectors per text: stands in for the model where its cost is not measured."""

    name = "all-MiniLM-L6-v2"

    def encode(self, texts):
        return np.stack([_unit(text) for text in texts]) if texts else np.zeros((0, DIM), "f4")


class WordsEmbedder:
    """Vectors that follow the words: each word's seeded vector, summed over a text (sqrt of its
    count), plus a seeded part of the text's own. Texts sharing words are close, as a model's
    are, so a coarse quantiser finds structure to work with (HashingEmbedder's are isotropic)."""

    name = HashingEmbedder.name
    OWN = 0.5  # the text's own seeded part, beside its words' (unit) sum

    def __init__(self) -> None:
        self.words: dict[str, int] = {}
        self.table = np.zeros((0, DIM), np.float32)

    def encode(self, texts):
        if not texts:
            return np.zeros((0, DIM), "f4")
        from scipy import sparse

        rows, cols = [], []
        for n, text in enumerate(texts):
            found = [self.words.setdefault(w, len(self.words)) for w in _WORD.findall(text.lower())]
            rows.extend([n] * len(found))
            cols.extend(found)
        self._grow()
        counts = sparse.csr_matrix(
            (np.ones(len(cols), np.float32), (rows, cols)), shape=(len(texts), len(self.words))
        )
        counts.sum_duplicates()
        counts.data = np.sqrt(counts.data)
        summed = np.asarray(counts @ self.table)
        summed /= np.maximum(np.linalg.norm(summed, axis=1, keepdims=True), 1e-9)
        vectors = summed + self.OWN * np.stack([_unit(text) for text in texts])
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    def _grow(self) -> None:
        known = len(self.table)
        if known < len(self.words):
            fresh = [_unit(f"word:{w}") for w in list(self.words)[known:]]
            self.table = np.vstack([self.table, *fresh])


_WORD = re.compile(r"[a-z0-9+#]+")
EMBEDDERS = {"hashing": HashingEmbedder, "words": WordsEmbedder}
EMBEDDER: HashingEmbedder | WordsEmbedder = HashingEmbedder()  # --vectors chooses


def _unit(text: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def real_issues() -> list[Issue]:
    issues = read_snapshot(demo_snapshot_path()).issues
    dev = ROOT.parent.parent / "shared" / "bench" / "dev" / "issues.jsonl"
    dev = dev if dev.exists() else Path("/work/shared/bench/dev/issues.jsonl")
    if dev.exists():
        issues += read_snapshot(dev).issues
    return issues


def synthetic_issues(size: int, seed: int = 14) -> Iterator[Issue]:
    """`size` issues recombined from real ones: a title, a body and labels each from another."""
    rng = random.Random(seed)
    source = real_issues()
    for n in range(size):
        title, body, labels = (rng.choice(source) for _ in range(3))
        repo = REPOS[rng.randrange(len(REPOS))]
        taken = rng.random() < 0.1
        yield Issue(
            url=f"https://github.com/{repo}/issues/{n + 1}",
            repo=repo,
            number=n + 1,
            title=title.title,
            body=f"{body.body[:1500]} (variant {n})",
            labels=labels.labels,
            language=LANGUAGES[n % len(LANGUAGES)],
            created_at=NOW - timedelta(days=rng.randrange(1, 900)),
            updated_at=NOW - timedelta(days=rng.randrange(0, 400)),
            comments=rng.randrange(0, 25),
            assignees=("someone",) if taken else (),
        )


def synthetic_pool(size: int, seed: int = 14) -> list[Issue]:
    return list(synthetic_issues(size, seed))


class StoredPool:
    """The URLs of a stored synthetic pool, without its issue records: the process measured is
    the one that ranks, so it holds no second copy of a million issues (a run reads the few it
    changes back from the store)."""

    def __init__(self, repo_of: np.ndarray) -> None:
        self.repo_of = repo_of  # int16: each issue's repository in REPOS

    def __len__(self) -> int:
        return len(self.repo_of)

    def url(self, n: int) -> str:
        return f"https://github.com/{REPOS[self.repo_of[n]]}/issues/{n + 1}"


def profiles(count: int, seed: int = 7) -> list[Profile]:
    rng = random.Random(seed)
    return [
        Profile(
            id=f"l{n}",
            skills=", ".join(rng.sample(SKILLS, 2)),
            niche=rng.choice(NICHES),
            languages=rng.choice(["", "Python", "Python, C++", "TypeScript"]),
        )
        for n in range(count)
    ]


def digest_feedback(learners: list[Profile], pool: StoredPool) -> dict[str, Feedback]:
    """What a digest passes: already seen issues hidden; a fifth also liked or dismissed one."""
    rng = random.Random(3)
    feedback = {}
    for learner in learners:
        seen = frozenset(pool.url(rng.randrange(len(pool))) for _ in range(10))
        opinion = rng.random() < 0.2
        feedback[learner.id] = Feedback(
            hidden=seen,
            liked=frozenset({pool.url(rng.randrange(len(pool)))}) if opinion else frozenset(),
            dismissed=frozenset({pool.url(rng.randrange(len(pool)))}) if opinion else frozenset(),
        )
    return feedback


def store(size: int, cache: Path) -> tuple[Database, StoredPool]:
    cache.mkdir(parents=True, exist_ok=True)
    kind = "" if isinstance(EMBEDDER, HashingEmbedder) else "-words"
    db = Database(f"sqlite:///{cache / f'scale-{size}{kind}.sqlite'}")
    building = count_issues(db) < size
    repo_of = np.zeros(size, dtype=np.int16)
    chunk: list[Issue] = []
    for n, issue in enumerate(synthetic_issues(size)):
        repo_of[n] = REPO_INDEX[issue.repo]
        if building:
            chunk.append(issue)
        if len(chunk) == 5000:
            write(db, chunk)
            chunk = []
    if chunk:
        write(db, chunk)
    return db, StoredPool(repo_of)


def write(db: Database, issues: list[Issue]) -> None:
    """Store issues and their vectors, as `import` does (it embeds what it stores)."""
    upsert_issues(db, issues)
    texts = {text_hash(i.embedding_text()): i.embedding_text() for i in issues}
    put_embeddings(
        db,
        HashingEmbedder.name,
        dict(zip(texts, EMBEDDER.encode(list(texts.values())), strict=True)),
    )


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def trim() -> None:
    """Collect garbage and give freed heap back to the system, so RSS shows what is kept."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # not glibc: RSS then includes freed heap
        pass


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def floor_single(vectors: np.ndarray, queries: np.ndarray, runs: int) -> float:
    def one(q):
        s = vectors @ q
        np.argpartition(-s, 10)[:10]

    return statistics.median(timed(lambda q=q: one(q)) for q in queries[:runs])


def floor_batch(vectors: np.ndarray, queries: np.ndarray) -> float:
    def run():
        for start in range(0, len(queries), 256):
            s = vectors @ queries[start : start + 256].T
            np.argpartition(-s, 10, axis=0)[:10]

    return timed(run)


def one_size(size: int, learner_counts: list[int], runs: int, changes: int, cache: Path) -> dict:
    db, pool = store(size, cache)
    settings = load_settings()
    # as the bot runs it: refreshes off the request path, the change mark checked every 2 s
    engine = MatchEngine(
        db, settings, embedder=EMBEDDER, embed_in_background=True, refresh_seconds=2.0
    )
    trim()
    before = rss_mb()
    warm_up = timed(engine.warm_up)
    peaks = {"warm-up": peak_mb()}
    trim()  # what the index keeps, not the store rows read while building it
    index_mb = rss_mb() - before
    everyone = profiles(max(learner_counts + [runs]))
    engine.queries(everyone)  # profile vectors are kept between requests
    engine.match(everyone[0], now=NOW)
    # one request a second, each with its own `now` as the bot's are (terms.learner_free)
    latencies = [
        timed(lambda p=p, n=n: engine.match(p, now=NOW + timedelta(seconds=n)))
        for n, p in enumerate(everyone[:runs], start=1)
    ]
    peaks["learners"] = peak_mb()
    staged = candidate_stage(engine, settings, everyone[:runs])
    peaks["exact comparison"] = peak_mb()
    result = {
        "issues": size,
        "blas_threads": blas_threads(),
        "warm_up_s": warm_up,
        "single_ms": statistics.median(latencies) * 1000,
        "single_p95_ms": float(np.percentile(latencies, 95)) * 1000,
        "index_mb": index_mb,
        "check_ms": statistics.median(timed(lambda: change_mark(db)) for _ in range(20)) * 1000,
        "candidates": staged,
        "after_change": after_changes(engine, db, pool, everyone, changes),
        "batch": [],
    }
    peaks["changes"] = peak_mb()
    for count in learner_counts:
        group = everyone[:count]
        feedback = digest_feedback(group, pool)
        seconds = timed(lambda g=group, f=feedback: engine.match_many(g, feedback_by_id=f, now=NOW))
        result["batch"].append({"learners": count, "seconds": seconds})
    # the engine's peak: the floors below read a float32 copy of the vectors of their own
    result["peak_rss_mb"] = peak_mb()
    result["peak_rss_by_step"] = peaks  # the process's peak so far, after each step
    vectors = widened(engine.index.snapshot.vectors)
    qvecs = np.stack([q.vector for q in engine.queries(everyone)])
    result["single_floor_ms"] = floor_single(vectors, qvecs, runs) * 1000
    for batch in result["batch"]:
        batch["floor_s"] = floor_batch(vectors, qvecs[: batch["learners"]])
    return result


def candidate_stage(engine: MatchEngine, settings, learners: list[Profile]) -> dict | None:
    """Above the threshold: each learner's list through the candidate stage beside the exact
    scorer's (recall@10, both latencies), and what building the quantiser takes."""
    pool = engine.index.pool()
    if not candidates.applies(pool, settings.ranking):
        return None
    exact_settings = settings.model_copy(
        update={"ranking": settings.ranking.model_copy(update={"candidates_above": None})}
    )
    staged, exact, staged_s, exact_s = [], [], [], []
    for learner in learners:
        staged_s.append(timed(lambda p=learner: staged.append(engine.match(p, now=NOW))))
        engine.settings = exact_settings
        exact_s.append(timed(lambda p=learner: exact.append(engine.match(p, now=NOW))))
        engine.settings = settings
    found = [
        len({m.issue.url for m in mine} & {m.issue.url for m in theirs}) / max(len(theirs), 1)
        for mine, theirs in zip(staged, exact, strict=True)
    ]
    probed = len(candidates.quantiser(pool).probe(np.ones(DIM), candidates.PROBED)[0])
    floor = statistics.median(
        probe_floor(pool, q.vector, settings.ranking) for q in engine.queries(learners)
    )
    return {
        "probe_floor_ms": floor * 1000,
        "recall_at_10": statistics.mean(found),
        "worst_recall": min(found),
        "staged_ms": statistics.median(staged_s) * 1000,
        "exact_ms": statistics.median(exact_s) * 1000,
        "probed": probed,
        "quantiser_s": timed(lambda: candidates.grouped(pool, candidates.train(pool))),
    }


def probe_floor(pool, vector: np.ndarray, ranking) -> float:
    """The candidate stage's numpy floor for one learner: the probed clusters' vectors read
    (np.take, memory order) and widened to float32, their product with the query,
    argpartition top-k."""
    probe = candidates.quantiser(pool).probe
    start = time.perf_counter()
    probed, _ = probe(candidates.direction(pool, Query(vector, ()), ranking), candidates.PROBED)
    s = candidates.gathered(pool.vectors, np.sort(probed)) @ vector
    np.argpartition(-s, 10)[:10]
    return time.perf_counter() - start


def after_changes(
    engine: MatchEngine, db: Database, pool: StoredPool, learners: list[Profile], changes: int
) -> dict:
    """The first query after a store change, beside the steady median, the time until the
    change is in the index and the process's peak RSS after it; for one issue changed, 256 new
    issues (an import chunk), one issue closed (its row left gone: pool.with_gone) and one
    closed by a merge that drops the gone rows (what one close in GONE_SHARE of them costs).
    With `changes` 0, none is timed (the store stays as it is)."""
    if not changes:
        return {}
    rng = random.Random(11)
    nonce = os.urandom(4).hex()  # the store is kept between runs: every run changes it anew
    out = {}
    kinds = (("one changed", 1), ("256 added", 256), ("one closed", 1), ("closed, gone dropped", 1))
    for kind, count in kinds:
        firsts, applied = [], []
        # GONE_SHARE 0: the close passes the share, and the merge drops every gone row
        ranking_pool.GONE_SHARE = 0.0 if kind == "closed, gone dropped" else GONE_SHARE
        for n in range(changes):
            if count == 1:
                (issue,) = issues_by_url(db, [pool.url(rng.randrange(len(pool)))])
                while kind != "one changed" and issue.state != "open":  # closed by an earlier run
                    (issue,) = issues_by_url(db, [pool.url(rng.randrange(len(pool)))])
                if kind != "one changed":
                    write(db, [replace(issue, state="closed")])
                else:
                    write(db, [replace(issue, comments=rng.randrange(10**6))])
            else:
                extra = synthetic_pool(count, seed=1000 + n)
                write(db, [replace(i, url=f"{i.url}-{nonce}{n}") for i in extra])
            mark = change_mark(db)
            engine._checked_at = -float("inf")  # the 2 s check is due now
            start = time.perf_counter()
            learner = learners[n % len(learners)]
            firsts.append(timed(lambda who=learner: engine.match(who, now=NOW)))
            engine.wait_for_refresh()
            applied.append(time.perf_counter() - start)
            assert engine.index.mark >= mark
        steady = [timed(lambda p=p: engine.match(p, now=NOW)) for p in learners[:20]]
        out[kind] = {
            "next_ms": statistics.median(firsts) * 1000,
            "next_max_ms": max(firsts) * 1000,
            "steady_ms": statistics.median(steady) * 1000,
            "applied_s": statistics.median(applied),
            "peak_rss_mb": peak_mb(),
        }
    ranking_pool.GONE_SHARE = GONE_SHARE
    return out


def profiles_run(learners: int, size: int, cache: Path) -> dict:
    """`match --profiles`' path: new profiles encoded by the real model, ms per extra learner."""
    from matcher.embedding import load_embedder

    db, _ = store(size, cache)
    engine = MatchEngine(db, load_settings(), embedder=load_embedder())
    engine.index  # noqa: B018 - built before timing, as the CLI builds it before ranking
    group = profiles(learners + 1, seed=99)
    first = timed(lambda: engine.match_many(group[:1], now=NOW))
    rest = timed(lambda: engine.match_many(group[1:], now=NOW))
    return {
        "learners": learners,
        "issues": size,
        "first_s": first,
        "per_extra_ms": rest / learners * 1000,
    }


# issue 22's targets: (what, issues it applies at, limit)
SINGLE_MS = {50_000: 5.0, 1_000_000: 50.0}
WARM_UP_S = {50_000: 5.0}
DIGEST_S = {50_000: 60.0}  # 10,000 learners, and at most 3x the floor
RSS_MB = {1_000_000: 2048.0}


def verdict(value: float, limit: float | None) -> str:
    return "" if limit is None else (" ok" if value <= limit else f" MISSES <= {limit:g}")


def print_report(r: dict) -> None:
    """One block per pool size: each figure beside its floor (same run) and its target."""
    n = r["issues"]
    single, floor = r["single_ms"], r["single_floor_ms"]
    print(f"\n{n:,} issues (BLAS threads {r['blas_threads']})")
    warm = r["warm_up_s"]
    print(f"  warm-up (index built, ready)   {warm:.2f} s{verdict(warm, WARM_UP_S.get(n))}")
    print(
        f"  1 learner warm                 {single:.2f} ms median, {r['single_p95_ms']:.2f} p95 "
        f"(floor {floor:.2f} ms, {single / floor:.1f}x){verdict(single, SINGLE_MS.get(n))}"
    )
    c = r.get("candidates")
    if c:
        print(
            f"  candidate stage                recall@10 {c['recall_at_10']:.3f} (worst "
            f"{c['worst_recall']:.1f}); {c['staged_ms']:.2f} ms median against the exact "
            f"scorer's {c['exact_ms']:.2f} ms, same learners (probe floor "
            f"{c['probe_floor_ms']:.2f} ms); probe ~{c['probed']:,} issues; "
            f"quantiser built in {c['quantiser_s']:.1f} s"
        )
    for kind, c in r["after_change"].items():
        ratio = c["next_ms"] / c["steady_ms"]
        print(
            f"  next query, {kind:20s} {c['next_ms']:.2f} ms median, "
            f"{c['next_max_ms']:.2f} max "
            f"(steady {c['steady_ms']:.2f} ms, {ratio:.2f}x{verdict(ratio, 2.0)}); "
            f"in the index after {c['applied_s']:.2f} s; peak RSS so far "
            f"{c.get('peak_rss_mb', 0):.0f} MB"
        )
    for b in r["batch"]:
        ratio = b["seconds"] / b["floor_s"]
        limit = DIGEST_S.get(n) if b["learners"] == 10_000 else None
        print(
            f"  {b['learners']:>6,} learners in batches   {b['seconds']:.2f} s, "
            f"{b['learners'] / b['seconds']:.0f}/s (floor {b['floor_s']:.2f} s, {ratio:.1f}x"
            f"{verdict(ratio, 3.0) if limit else ''}){verdict(b['seconds'], limit)}"
        )
    print(f"  change check (counter read)    {r['check_ms']:.2f} ms")
    print(
        f"  memory                         index {r['index_mb']:.0f} MB, peak RSS "
        f"{r['peak_rss_mb']:.0f} MB{verdict(r['peak_rss_mb'], RSS_MB.get(n))} (peak after "
        + ", ".join(f"{step} {mb:.0f}" for step, mb in r.get("peak_rss_by_step", {}).items())
        + ")"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", default="1000,10000,50000")
    parser.add_argument("--learners", default="1,100,10000")
    parser.add_argument("--runs", type=int, default=30, help="single-learner requests timed")
    parser.add_argument("--changes", type=int, default=5, help="store changes timed, per kind")
    parser.add_argument("--profiles-run", default="400x5000", help="LEARNERSxISSUES, or '' to skip")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/matcher-scale-cache"))
    parser.add_argument(
        "--vectors",
        choices=sorted(EMBEDDERS),
        default="hashing",
        help="issue and profile vectors: seeded per text, or following the words (own store)",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profiles-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    learners = [int(n) for n in args.learners.split(",") if n]
    global EMBEDDER
    EMBEDDER = EMBEDDERS[args.vectors]()
    if args.profiles_only:
        count, size = (int(n) for n in args.profiles_run.split("x"))
        print(json.dumps(profiles_run(count, size, args.cache)))
        return
    if args.one:
        print(json.dumps(one_size(args.one, learners, args.runs, args.changes, args.cache)))
        return
    results = []
    for size in [int(n) for n in args.issues.split(",") if n]:
        # a fresh process per size, so peak RSS is that size's own
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                str(size),
                "--learners",
                args.learners,
                "--runs",
                str(args.runs),
                "--changes",
                str(args.changes),
                "--cache",
                str(args.cache),
                "--vectors",
                args.vectors,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), file=sys.stderr)
        print_report(results[-1])
    if args.profiles_run:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--profiles-only",
                "--profiles-run",
                args.profiles_run,
                "--cache",
                str(args.cache),
                "--vectors",
                args.vectors,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"\nmatch --profiles path, {r['learners']} new learners x {r['issues']:,} issues "
            f"(real model): first learner {r['first_s']:.2f} s, then "
            f"{r['per_extra_ms']:.1f} ms per learner, profile encoding included"
        )


if __name__ == "__main__":
    main()
