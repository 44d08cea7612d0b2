"""The warm ranking index: every open issue of one store as arrays, kept up to date from the
store's change mark.

One process builds it once and keeps it. A refresh reads the counter every issue write advances
(one row, revision 0008); when it moved, it reads only the rows written since, merges them into a
new snapshot and builds the unfiltered pool (BM25 weighted on it) beside the one in use, then
swaps both in at once. A ranking takes the snapshot and pool current when it starts and never
waits for a refresh: `refresh()` may run on another thread (MatchEngine does that for the bot).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager

import numpy as np
from sqlalchemy.exc import SQLAlchemyError

from matcher.catalog import Labels
from matcher.errors import StoreError
from matcher.models import Issue
from matcher.ranking.pool import (
    Lexicon,
    NichesOf,
    Pages,
    Pool,
    Snapshot,
    build_pool,
    build_snapshot,
    compact_vectors,
    empty_snapshot,
    kept_rows,
    merge_snapshots,
    restated,
    restated_pool,
    select_rows,
    sound_text_facts,
    text_facts,
    with_gone,
    with_vectors,
)
from matcher.ranking.vectors import row as vector_row
from matcher.ranking.vectors import width
from matcher.signals import TextFacts, text_facts_key
from matcher.store import Database
from matcher.store.issues import (
    change_mark,
    count_open_issues,
    embedding_rows,
    get_embeddings,
    issues_changed_since,
    open_issue_pages,
)
from matcher.store.text_facts import get_text_facts, put_text_facts

log = logging.getLogger(__name__)

POOL_CACHE = 8  # pools (community focus filters) kept ready per index generation
# open issues the first build reads and builds at a time (at most store.db.SCAN_ABOVE: each
# page's vectors and text facts are then read by key, not by a pass over their tables)
PAGE = 20_000
# a store of up to this many open issues is read in one page: their vectors and facts in one
# pass over each table (at 50,000: about 1 s faster than pages read by key, 0.15 GB more peak)
ONE_PAGE_UPTO = 100_000
EVERYTHING: tuple = (None, None, None)  # the pool key of no focus

VectorSource = Callable[[dict[str, str]], dict[str, np.ndarray]]
# readies a new pool (the candidate stage's quantiser), given the pool it replaces and each new
# position's position in it (-1: a new issue; None: not known)
Prepare = Callable[[Pool, Pool | None, np.ndarray | None], None]
PoolKey = tuple[frozenset[str] | None, frozenset[str] | None, frozenset[str] | None]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile: building a snapshot allocates objects per issue
    and keeps them, so each collection those allocations trigger traverses everything built so
    far and frees nothing (about 1 s CPU of a warm-up at 50,000 issues before text facts were
    stored). Any cycle left is collected once the collector runs again."""
    if not gc.isenabled():  # paused by someone else: theirs to resume
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class RankingIndex:
    """Every open issue of one store, ready to rank; `refresh()` applies what changed since."""

    def __init__(
        self,
        db: Database,
        model: str,
        labels: Labels,
        niches_of: NichesOf,
        prepare: Prepare | None = None,
        compact_above: int | None = None,
    ):
        self.db = db
        self.prepare = prepare  # readies each new unfiltered pool before a ranking can see it
        self.compact_above = compact_above  # vectors kept compact above this many (compact_vectors)
        self.model = model
        self.labels = labels
        self.niches_of = niches_of
        self.lexicon = Lexicon()
        self.snapshot = empty_snapshot(self.lexicon)
        self.mark = -1  # the change mark applied; -1: nothing read yet
        self.generation = 0
        self.pending: dict[str, str] = {}  # text hash -> text still waiting for its vector
        self.rows_read = 0  # rows read from the store since built (tests, reports)
        self.refreshed_at: float | None = None  # time.time() of the last change applied
        self._full: Pool | None = None  # the pool of no focus, always kept
        self._pools: OrderedDict[PoolKey, Pool] = OrderedDict()  # focus pools, the latest few
        self._lock = threading.Lock()  # guards the swap of snapshot and pools
        self._refreshing = threading.Lock()  # one refresh at a time

    @property
    def vocabulary(self) -> dict[str, int]:
        return self.lexicon.vocabulary

    def __len__(self) -> int:
        return self.snapshot.held_issues

    def refresh(self, vectors_for: VectorSource | None = None) -> bool:
        """Apply the issues written since the last refresh; True when anything changed.

        `vectors_for` encodes texts the store has no vector for; without it such issues wait
        (outside every pool) until `install_vectors` brings theirs.
        """
        with self._refreshing, _collector_paused():
            mark = change_mark(self.db)
            if mark == self.mark:
                return False
            if self.mark < 0:
                self._swap(self._built(mark, vectors_for))
                self.mark = mark
                log.debug("ranking index: built, %d issues", len(self))
                return True
            changed, reached = issues_changed_since(self.db, self.mark)
            self.rows_read += len(changed)
            if changed and self._texts_unchanged(changed):
                self._restate([issue for issue, _ in changed])
            else:
                snapshot, kept = self._merged(changed, vectors_for)
                self._swap(snapshot, kept=kept)
            self.mark = max(mark, reached)
            log.debug("ranking index: %d rows applied, %d issues", len(changed), len(self))
            return True

    def _texts_unchanged(self, changed: list[tuple[Issue, str]]) -> bool:
        """Every changed row is an open, embedded issue the index holds with the same text."""
        old = self.snapshot
        rows = old.rows_of([issue.url for issue, _ in changed]).tolist()
        for (issue, text_hash), row in zip(changed, rows, strict=True):
            if row < 0 or not issue.is_open or old.hash_of(row) != text_hash:
                return False
            if not old.embedded[row]:
                return False
        return True

    def _restate(self, changed: list[Issue]) -> None:
        """Only signals changed (comments, assignees, activity): no term or vector moves, so the
        pool keeps its BM25 weights and centre; built beside the current one, then swapped."""
        snapshot = restated(self.snapshot, changed, self.labels, self.niches_of, self.lexicon)
        full = self._full
        pool = (
            restated_pool(full, snapshot)
            if full is not None and full.snapshot is self.snapshot
            else build_pool(snapshot)
        )
        self._swap(snapshot, pool)

    def _built(self, mark: int, vectors_for: VectorSource | None) -> Snapshot:
        """The first build: every open issue written up to `mark`, read and built PAGE issues at a
        time (no store rows, tokens or bodies of every issue at once), their vectors written
        into one buffer with room to grow, kept compact above `compact_above` issues."""
        expected = count_open_issues(self.db, mark)
        pages = Pages(self.lexicon, expected, compact_vectors(expected, self.compact_above))
        size = expected if 0 < expected <= ONE_PAGE_UPTO else PAGE
        for page in open_issue_pages(self.db, mark, size):
            self.rows_read += len(page)
            matrix, embedded = self._all_vectors(page, vectors_for)
            vectors = pages.vectors_at(matrix, embedded)
            issues = [issue for issue, _ in page]
            pages.add(
                build_snapshot(
                    issues,
                    [h for _, h in page],
                    (vectors, embedded),
                    self.labels,
                    self.niches_of,
                    self.lexicon,
                    facts=self._text_facts(issues),
                )
            )
        return pages.snapshot()

    def _merged(
        self, changed: list[tuple[Issue, str]], vectors_for: VectorSource | None
    ) -> tuple[Snapshot, np.ndarray]:
        """The snapshot with `changed` applied, and the rows of the old one its first rows are.
        The changed issues' rows become gone rows (with_gone) and the merge appends in place,
        until there are too many of them (kept_rows): then it keeps the others (a copy)."""
        old = self.snapshot
        held = old.rows_of([issue.url for issue, _ in changed])
        fresh = [(issue, h) for issue, h in changed if issue.is_open]
        vectors = self._vectors(fresh, old, vectors_for)
        issues = [i for i, _ in fresh]
        added = build_snapshot(
            issues,
            [h for _, h in fresh],
            vectors,
            self.labels,
            self.niches_of,
            self.lexicon,
            dim=width(old.vectors),
            facts=self._text_facts(issues),
        )
        old = with_gone(old, held[held >= 0])
        keep = kept_rows(old, len(added))
        compact = compact_vectors(len(keep) + len(added), self.compact_above)
        merged = merge_snapshots(old, keep, added, len(self.lexicon.vocabulary), compact)
        return merged, keep

    def _text_facts(self, issues: list[Issue]) -> list[TextFacts]:
        """The issues' text_facts, row-aligned: read from the store, the texts it lacks
        scanned here and stored for the next build (if the store takes them)."""
        keys = [text_facts_key(issue) for issue in issues]
        found = get_text_facts(self.db, keys, sound_text_facts)
        missing = {k: text_facts(i) for k, i in zip(keys, issues, strict=True) if k not in found}
        if missing:
            try:
                put_text_facts(self.db, missing)
            except (StoreError, SQLAlchemyError) as exc:  # a read-only or busy store: next time
                log.warning("ranking index: text facts not stored (%s)", exc)
            found.update(missing)
        return [found[key] for key in keys]

    def _vectors(
        self, fresh: list[tuple[Issue, str]], old: Snapshot, vectors_for: VectorSource | None
    ) -> dict[str, np.ndarray]:
        """Vectors of the fresh rows: kept from the old snapshot, else from the store or encoded."""
        found = {}
        rows = old.rows_of([issue.url for issue, _ in fresh]).tolist()
        for (_, text_hash), row in zip(fresh, rows, strict=True):
            if row >= 0 and old.hash_of(row) == text_hash and old.embedded[row]:
                found[text_hash] = vector_row(old.vectors, row)
        wanted = [h for _, h in fresh if h not in found]
        found.update(get_embeddings(self.db, self.model, wanted))
        missing = {h: i.embedding_text() for i, h in fresh if h not in found}
        if missing and vectors_for is not None:
            found.update(vectors_for(missing))
            missing = {h: t for h, t in missing.items() if h not in found}
        with self._lock:
            self.pending.update(missing)
        return found

    def _all_vectors(
        self, fresh: list[tuple[Issue, str]], vectors_for: VectorSource | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The first build's vectors, row-aligned (matrix, embedded): read from the store straight
        into the snapshot's matrix, the missing ones encoded by `vectors_for` or left waiting."""
        matrix, embedded = embedding_rows(self.db, self.model, [h for _, h in fresh])
        missing = {
            h: i.embedding_text() for (i, h), ok in zip(fresh, embedded, strict=True) if not ok
        }
        if missing and vectors_for is not None:
            encoded = vectors_for(missing)
            for row in np.flatnonzero(~embedded).tolist():
                vector = encoded.get(fresh[row][1])
                if vector is None:
                    continue
                if matrix.shape[1] != len(vector):
                    if embedded.any():  # another width than the stored ones: never in one model
                        continue
                    matrix = np.zeros((len(fresh), len(vector)), dtype=np.float32)
                matrix[row] = vector
                embedded[row] = True
            missing = {h: t for h, t in missing.items() if h not in encoded}
        with self._lock:
            self.pending.update(missing)
        return matrix, embedded

    def _swap(
        self, snapshot: Snapshot, pool: Pool | None = None, kept: np.ndarray | None = None
    ) -> None:
        """Make `snapshot` current, with its unfiltered pool built before anyone can see it;
        `kept`: the current snapshot's rows that are its first rows (a merge's; -1 where a row
        holds something new), which lets the pool's preparation carry over what it knew of the
        same issues."""
        pool = pool or build_pool(snapshot)
        if self.prepare is not None:  # on the refresh's thread: no request waits for it
            self.prepare(pool, self._full, self._carried(pool, kept))
        with self._lock:
            self.snapshot = snapshot
            self.generation += 1
            self._full = pool
            self._pools = OrderedDict()
            self.refreshed_at = time.time()

    def _carried(self, pool: Pool, kept: np.ndarray | None) -> np.ndarray | None:
        """Each position of `pool` (a merge's) in the current unfiltered pool, -1 for an issue
        it did not hold (or whose row `kept` says is new: -1); None without a link between them."""
        previous = self._full
        if kept is None or previous is None or previous.snapshot is not self.snapshot:
            return None
        carried = np.full(len(pool), -1, dtype=np.int64)
        inside = pool.rows < len(kept)
        was = kept[pool.rows[inside]]
        carried[inside] = np.where(was >= 0, previous.local[np.maximum(was, 0)], -1)
        return carried

    def waiting(self, limit: int | None = None) -> dict[str, str]:
        """Up to `limit` texts (hash -> text) still waiting for their vector."""
        with self._lock:
            return dict(list(self.pending.items())[:limit])

    def collect_vectors(self) -> int:
        """Vectors another process (the importer, a sync) stored for waiting texts join the
        index; how many did."""
        hashes = list(self.waiting())
        return self.install_vectors(get_embeddings(self.db, self.model, hashes)) if hashes else 0

    def install_vectors(self, vectors: dict[str, np.ndarray]) -> int:
        """Vectors encoded elsewhere join the index; how many rows they filled."""
        if not vectors:
            return 0
        with self._refreshing:
            with self._lock:
                for key in vectors:
                    self.pending.pop(key, None)
            compact = compact_vectors(len(self.snapshot), self.compact_above)
            snapshot, filled = with_vectors(self.snapshot, vectors, compact)
            if len(filled):
                # every row where it was; the filled ones new to the quantiser (-1: see _carried)
                kept = np.arange(len(snapshot), dtype=np.int64)
                kept[filled] = -1
                self._swap(snapshot, kept=kept)
            return len(filled)

    def pool(
        self,
        repos: Collection[str] | None = None,
        niches: Collection[str] | None = None,
        only_urls: Collection[str] | None = None,
    ) -> Pool:
        """The pool for a focus (cached until the index changes)."""
        key: PoolKey = (
            None if repos is None else frozenset(r.lower() for r in repos),
            frozenset(n.lower() for n in niches) if niches else None,
            None if only_urls is None else frozenset(only_urls),
        )
        with self._lock:
            snapshot, generation = self.snapshot, self.generation
            pool = self._full if key == EVERYTHING else self._pools.get(key)
            if pool is not None:
                if key != EVERYTHING:
                    self._pools.move_to_end(key)
                return pool
        pool = build_pool(snapshot, None if key == EVERYTHING else select_rows(snapshot, *key))
        with self._lock:
            if generation == self.generation and key == EVERYTHING:
                self._full = pool
            elif generation == self.generation:
                self._pools[key] = pool
                while len(self._pools) > POOL_CACHE:
                    self._pools.popitem(last=False)
        return pool

    def vector_of(self, url: str) -> np.ndarray | None:
        snapshot = self.snapshot
        row = snapshot.row_of(url)
        if row is None or not snapshot.embedded[row]:
            return None
        return vector_row(snapshot.vectors, row)
