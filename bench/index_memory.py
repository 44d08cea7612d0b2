"""Where the warm index's memory goes: what each part of the snapshot and its pool keeps, and the
RSS at each step of the warm-up (its peak included).

    python bench/index_memory.py --issues 50000 [--vectors hashing|words] [--cache DIR]

Reads a store bench/scale.py built (same --cache and --vectors), warms a MatchEngine up as the
bot does, sampling RSS every 10 ms, and prints the sizes of the snapshot's arrays, its Python
records (objects reached from them and from no other record, counted once), the pool's BM25
weights and the candidate stage's structures.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import scale  # noqa: E402

from matcher.engine import MatchEngine  # noqa: E402
from matcher.ranking import candidates, index, pool, terms  # noqa: E402
from matcher.settings import load_settings  # noqa: E402
from matcher.store import Database  # noqa: E402

MB = 2**20


class RssSampler:
    """RSS every `every` seconds on a thread, and the step of the warm-up each sample fell in."""

    def __init__(self, every: float = 0.01) -> None:
        self.every = every
        self.step = "start"
        self.peaks: dict[str, float] = {}
        self.order: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.note()
            time.sleep(self.every)

    def note(self) -> None:
        rss = scale.rss_mb()
        if self.step not in self.peaks:
            self.order.append(self.step)
        self.peaks[self.step] = max(self.peaks.get(self.step, 0.0), rss)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def marked(sampler: RssSampler, owner, name: str) -> None:
    """Wrap owner.name so the sampler knows which step it is in."""
    original: Callable | None = getattr(owner, name, None) if owner is not None else None
    if original is None:  # another version of the code (bench/index_memory.py runs on both)
        return

    def wrapper(*args, **kwargs):
        outer, sampler.step = sampler.step, name
        try:
            return original(*args, **kwargs)
        finally:
            sampler.note()
            sampler.step = outer

    setattr(owner, name, wrapper)


def array_mb(*arrays) -> float:
    total = 0
    for a in arrays:
        if a is None:
            continue
        if hasattr(a, "indptr"):
            total += a.data.nbytes + a.indices.nbytes + a.indptr.nbytes
        else:
            total += a.nbytes
    return total / MB


def objects_mb(roots, seen: set[int]) -> float:
    """Bytes of the objects reached from `roots` (one level into records, tuples, dicts, lists)
    not seen before: a record's own strings, times and numbers, shared ones counted once."""
    total = 0
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, bool):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, np.ndarray):
            if obj.base is not None:  # a view: getsizeof leaves its data out
                total += obj.nbytes
            if obj.dtype == object:
                stack.extend(obj.tolist())
            continue
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, frozenset, set)):
            stack.extend(obj)
        elif hasattr(obj, "__dict__"):
            stack.append(obj.__dict__)
        elif hasattr(obj, "__slots__"):
            stack.extend(getattr(obj, s) for s in obj.__slots__ if hasattr(obj, s))
    return total / MB


def nested_mb(value) -> float:
    """MB of the arrays (dense or sparse) inside dicts, tuples and lists."""
    if isinstance(value, dict):
        return sum(nested_mb(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return sum(nested_mb(v) for v in value)
    if isinstance(value, np.ndarray) or hasattr(value, "indptr"):
        return array_mb(value)
    if hasattr(value, "__dataclass_fields__"):
        return sum(nested_mb(getattr(value, f)) for f in value.__dataclass_fields__)
    return 0.0


def breakdown(engine: MatchEngine) -> list[tuple[str, float]]:
    """(part, MB) of what the index keeps."""
    ix = engine.index
    snap, full = ix.snapshot, ix.pool()
    seen: set[int] = set()
    rows: list[tuple[str, float]] = []
    room = snap.room.buffer if snap.room is not None else None
    rows.append(("vectors (the rows in use)", array_mb(snap.vectors)))
    if room is not None:
        spare = room.nbytes - snap.vectors.nbytes
        rows.append(("vectors' spare rows (allocated; resident once written)", spare / MB))
    counts = snap.counts_t if hasattr(snap, "counts_t") else snap.counts
    rows.append(("term counts (CSR)", array_mb(counts, getattr(snap, "tail_t", None))))
    bm25 = getattr(full, "bm25", None)
    if bm25 is not None:
        norm_idf = array_mb(bm25.norm, bm25.idf)
        rows.append(("BM25 norms and idf (pool; weights computed per query)", norm_idf))
    else:  # a version that kept the weights (weights_t), sharing the counts' indices or not
        weights = full.weights_t
        shared = np.shares_memory(weights.indices, counts.indices)
        own = weights.data.nbytes if shared else array_mb(weights) * MB
        rows.append(("BM25 weights_t (pool)", own / MB))
    fields = [getattr(snap.signals, f) for f in snap.signals.__dataclass_fields__]
    rows.append(("signals, embedded", array_mb(*fields, snap.embedded)))
    rows.append(("URL order (rows, urls pointers, rank)", array_mb(*vars(snap.url_order).values())))
    rows.append(
        (
            "pool arrays (rows, local, url_rank, centre, labelled)",
            array_mb(
                full.rows,
                full.local,
                full.url_rank,
                full.labelled,
                full.centre.norms if full.centre is not None else None,
            ),
        )
    )
    issues = getattr(snap, "issues", None)
    if issues is not None:
        rows.append(
            ("issue records (objects, bodies, titles, urls, times)", objects_mb(issues, seen))
        )
    records = getattr(snap, "records", None)
    if records is not None:
        rows.append(("issue records (columns)", objects_mb([records], seen)))
    rows.append(
        (
            "text hashes",
            objects_mb(snap.hashes, seen)
            if isinstance(snap.hashes, list)
            else array_mb(snap.hashes),
        )
    )
    if hasattr(snap, "position"):
        rows.append(("position dict (url -> row)", objects_mb([snap.position], seen)))
    rows.append(("repo_key, niches lists", objects_mb([snap.repo_key, snap.niches], seen)))
    rows.append(("pool.repos list", objects_mb([full.repos], seen)))
    rows.append(("vocabulary", objects_mb([ix.lexicon.vocabulary], seen)))
    memo = terms._MEMO.get(full, {})
    rows.append(("terms kept with the pool (learner-free terms, ...)", nested_mb(memo)))
    rows.append(("phrase rows kept with the pool", nested_mb(full.phrase_rows.values())))
    kept = candidates._KEPT.get(full)
    if kept is not None:
        rows.append(("quantiser", array_mb(kept.centroids, kept.nearest, kept.order, kept.starts)))
    columns = candidates._COLUMNS.get(full)
    if columns is not None:
        rows.append(("candidate PoolColumns", array_mb(columns.repos, columns.labelled)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=50_000)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/matcher-scale-cache"))
    parser.add_argument("--vectors", choices=sorted(scale.EMBEDDERS), default="hashing")
    args = parser.parse_args()
    scale.EMBEDDER = scale.EMBEDDERS[args.vectors]()
    kind = "" if args.vectors == "hashing" else "-words"
    db = Database(f"sqlite:///{args.cache / f'scale-{args.issues}{kind}.sqlite'}")
    engine = MatchEngine(db, load_settings(), embedder=scale.EMBEDDER)
    scale.trim()
    base = scale.rss_mb()
    with RssSampler() as sampler:
        for owner, name in (
            (index, "issues_changed_since"),
            (index, "embedding_rows"),
            (index.RankingIndex, "_text_facts"),
            (index, "build_snapshot"),
            (getattr(pool, "Pages", None), "snapshot"),
            (pool, "count_terms_and_cues"),
            (pool, "issue_signals"),
            (index, "build_pool"),
            (pool, "bm25_weights_t"),
            (candidates, "prepare"),
        ):
            marked(sampler, owner, name)
        start = time.perf_counter()
        engine.warm_up()
        warm = time.perf_counter() - start
        sampler.step = "ranked once"
        engine.match(scale.profiles(1)[0], now=scale.NOW)
        sampler.note()
    scale.trim()
    kept = scale.rss_mb()
    print(
        f"{len(engine.index):,} issues; warm-up {warm:.1f} s; RSS before {base:.0f} MB, "
        f"after (trimmed) {kept:.0f} MB"
    )
    print("\npeak RSS in each step of the warm-up (MB):")
    for step in sampler.order:
        print(f"  {step:32s} {sampler.peaks[step]:8.0f}")
    print("\nwhat the index keeps (MB):")
    parts = breakdown(engine)
    for part, size in parts:
        print(f"  {part:58s} {size:8.1f}")
    kept_mb = sum(s for p, s in parts if "spare" not in p)
    print(f"  {'sum of the parts (spare rows aside)':58s} {kept_mb:8.1f}")
    print(f"  {'RSS the index added (trimmed)':58s} {kept - base:8.1f}")
    import resource

    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
