"""The warm ranking index: every open issue as arrays, refreshed from the store's change mark.

One process builds it once and keeps it: the issue vectors as one float32 matrix, the issue texts
as a sparse term-count matrix (today's tokenizer; BM25 is weighted per pool, exactly as a pool
fitted on its own would be), and every per-issue signal the ranking uses as an array. A refresh
reads only the rows stored since the last one (`issues.stored_at`, which import and sync
advance); a ranking then is matrix work over a cached pool plus top-k selection per learner.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from scipy import sparse

from matcher.catalog import Labels
from matcher.lexical import (
    bm25_idf,
    bm25_weights,
    issue_work_language,
    name_matches,
    tokenize,
)
from matcher.models import Feedback, Issue, Level, Match
from matcher.ranking import (
    TASK_TYPES,
    Centre,
    Query,
    asked_kinds,
    centred_similarity,
    diversify,
    feedback_shift,
    intent_fits,
    pool_centre,
    reasons_for,
    task_fits,
    task_type,
)
from matcher.settings import RankingSettings
from matcher.signals import (
    difficulty,
    keep_hard_below_beginner,
    kind_step,
    neglect,
    ramp_fits,
    ramp_reason,
    welcoming,
)
from matcher.store import Database
from matcher.store.issues import get_embeddings, issues_mark, issues_stored_since

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
KINDS: tuple[str | None, ...] = (*(name for name, _ in TASK_TYPES), None)  # kind id -> kind
KIND_ID = {kind: k for k, kind in enumerate(KINDS)}
KIND_STEP = np.array([kind_step(kind) for kind in KINDS], dtype=np.int8)  # kind id -> ramp step
CANDIDATES = 300  # the diversity cap looks only at this many best issues (unless it runs dry)
POOL_CACHE = 8  # pools (community focus filters) kept ready per index generation

VectorSource = Callable[[dict[str, str]], dict[str, np.ndarray]]


def _micros(when: datetime) -> int:
    """Exact microseconds since the epoch (what timedelta.total_seconds() is computed from)."""
    return (when - _EPOCH) // _MICROSECOND


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The index's arrays at one moment; never changed in place, so a ranking can keep using it."""

    issues: list[Issue]
    hashes: list[str]
    vectors: np.ndarray  # (n, dim) float32, L2-normalised; zeros where not embedded yet
    embedded: np.ndarray  # bool
    counts: sparse.csr_matrix  # (n, vocabulary) term counts, float32 (small integers: exact)
    label: np.ndarray  # beginner-label strength
    hard: np.ndarray  # 1.0 for a hard label
    marked_stale: np.ndarray  # bool: a stale label (signals.neglect counts it in full)
    kind: np.ndarray  # int8 id in KINDS of ranking.task_type
    taken: np.ndarray  # bool
    competition: np.ndarray
    welcome: np.ndarray  # signals.welcoming
    difficulty: np.ndarray  # signals.difficulty
    stamp: np.ndarray  # int64 microseconds of updated_at (or created_at)
    has_stamp: np.ndarray  # bool
    active: np.ndarray  # int64 microseconds of updated_at alone (signals.days_idle)
    has_active: np.ndarray  # bool
    waiting: np.ndarray  # int64 microseconds of unanswered_since (signals.days_unanswered)
    has_waiting: np.ndarray  # bool: unanswered comments wait
    language: np.ndarray  # int32 language id, -1 when the repository's says nothing
    repo_key: list[str]  # repository, lower case (filters)
    niches: list[frozenset[str]]  # lower case
    position: dict[str, int] = field(default_factory=dict)
    term_sets: dict[int, frozenset[int]] = field(default_factory=dict)  # filled as rows are shown

    def __len__(self) -> int:
        return len(self.issues)


@dataclass(frozen=True, eq=False)
class Pool:
    """The open, embedded issues one ranking looks at, with BM25 fitted on exactly them."""

    snapshot: Snapshot
    rows: np.ndarray  # snapshot rows in the pool
    vectors: np.ndarray
    weights_t: sparse.csr_matrix  # (vocabulary, n) BM25 weights, transposed for Q @ W.T
    label: np.ndarray
    hard: np.ndarray
    marked_stale: np.ndarray
    kind: np.ndarray
    taken: np.ndarray
    competition: np.ndarray
    welcome: np.ndarray
    difficulty: np.ndarray
    stamp: np.ndarray
    has_stamp: np.ndarray
    active: np.ndarray
    has_active: np.ndarray
    waiting: np.ndarray
    has_waiting: np.ndarray
    language: np.ndarray
    repos: list[str]
    url_rank: np.ndarray  # ties break on URL
    local: np.ndarray  # snapshot row -> pool position, -1 outside the pool
    centre: Centre | None  # ranking.pool_centre, for the centred dense similarity

    def __len__(self) -> int:
        return len(self.rows)

    def issue(self, position: int) -> Issue:
        return self.snapshot.issues[self.rows[position]]


class RankingIndex:
    """Every open issue of one store, ready to rank; `refresh()` applies what changed since."""

    def __init__(
        self,
        db: Database,
        model: str,
        labels: Labels,
        niches_of: Callable[[str], tuple[str, ...]],
    ):
        self.db = db
        self.model = model
        self.labels = labels
        self.niches_of = niches_of
        self.vocabulary: dict[str, int] = {}
        self.languages: dict[str, int] = {}
        self.snapshot = _empty_snapshot()
        self.generation = 0
        self.pending: dict[str, str] = {}  # text hash -> text still waiting for its vector
        self.rows_read = 0  # rows read from the store since built (tests, reports)
        self._mark: tuple[int, datetime | None] | None = None
        self._since: datetime | None = None
        self._pools: OrderedDict[tuple, Pool] = OrderedDict()
        self._lock = threading.RLock()

    def refresh(self, vectors_for: VectorSource | None = None) -> bool:
        """Apply the issues stored since the last refresh; True when anything changed.

        `vectors_for` encodes texts the store has no vector for; without it such issues wait
        (outside every pool) until `install_vectors` brings theirs.
        """
        with self._lock:
            mark = issues_mark(self.db)
            if mark == self._mark:
                return False
            full = self._mark is None or mark[0] < self._mark[0]
            changed = issues_stored_since(self.db, None if full else self._since, open_only=full)
            if not full and not changed:  # rows came in under an older stamp: read them all
                full = True
                changed = issues_stored_since(self.db, None, open_only=True)
            self.rows_read += len(changed)
            stamps = [stored for _, _, stored in changed if stored is not None]
            self._since = max([*stamps, *([mark[1]] if mark[1] else [])], default=self._since)
            self._mark = mark
            self._apply([(i, h) for i, h, _ in changed], full, vectors_for)
            return True

    def _apply(
        self, changed: list[tuple[Issue, str]], full: bool, vectors_for: VectorSource | None
    ) -> None:
        old = _empty_snapshot() if full else self.snapshot
        urls = {issue.url for issue, _ in changed}
        keep = np.array(
            [row for row, issue in enumerate(old.issues) if issue.url not in urls], dtype=np.int64
        )
        fresh = [(issue, h) for issue, h in changed if issue.is_open]
        known = {}  # text hash -> old row whose text (terms, vector) is unchanged
        for issue, text_hash in fresh:
            row = old.position.get(issue.url)
            if row is not None and old.hashes[row] == text_hash:
                known[text_hash] = row
        vectors = self._vectors(fresh, old, known, vectors_for)
        self.snapshot = self._merge(old, keep, fresh, known, vectors)
        self.generation += 1
        self._pools.clear()
        log.debug("ranking index: %d rows applied, %d issues", len(changed), len(self.snapshot))

    def _vectors(
        self,
        fresh: list[tuple[Issue, str]],
        old: Snapshot,
        known: dict[str, int],
        vectors_for: VectorSource | None,
    ) -> dict[str, np.ndarray]:
        """Vectors of the fresh rows: kept from the old snapshot, else from the store or encoded."""
        found = {h: old.vectors[row] for h, row in known.items() if old.embedded[row]}
        wanted = [h for _, h in fresh if h not in found]
        found.update(get_embeddings(self.db, self.model, wanted))
        missing = {h: i.embedding_text() for i, h in fresh if h not in found}
        if missing and vectors_for is not None:
            found.update(vectors_for(missing))
            missing = {h: t for h, t in missing.items() if h not in found}
        self.pending.update(missing)
        return found

    def _merge(
        self,
        old: Snapshot,
        keep: np.ndarray,
        fresh: list[tuple[Issue, str]],
        known: dict[str, int],
        vectors: dict[str, np.ndarray],
    ) -> Snapshot:
        dim = next((len(v) for v in vectors.values()), old.vectors.shape[1])
        added = _Rows(len(fresh), dim)
        term_rows = []
        for n, (issue, text_hash) in enumerate(fresh):
            self._signals(added, n, issue, vectors.get(text_hash))
            term_rows.append(
                _row_terms(old.counts, known[text_hash])
                if text_hash in known
                else self._count_terms(issue)
            )
        counts = sparse.vstack(
            [_widen(old.counts[keep], len(self.vocabulary)), self._counts(term_rows)], format="csr"
        )
        old_vectors = (
            old.vectors[keep]
            if old.vectors.shape[1] == dim
            else np.zeros((len(keep), dim), np.float32)
        )
        issues = [old.issues[r] for r in keep] + [i for i, _ in fresh]
        snapshot = Snapshot(
            issues=issues,
            hashes=[old.hashes[r] for r in keep] + [h for _, h in fresh],
            vectors=np.vstack([old_vectors, added.vectors]),
            embedded=np.concatenate([old.embedded[keep], added.embedded]),
            counts=counts,
            label=np.concatenate([old.label[keep], added.label]),
            hard=np.concatenate([old.hard[keep], added.hard]),
            marked_stale=np.concatenate([old.marked_stale[keep], added.marked_stale]),
            kind=np.concatenate([old.kind[keep], added.kind]),
            taken=np.concatenate([old.taken[keep], added.taken]),
            competition=np.concatenate([old.competition[keep], added.competition]),
            welcome=np.concatenate([old.welcome[keep], added.welcome]),
            difficulty=np.concatenate([old.difficulty[keep], added.difficulty]),
            stamp=np.concatenate([old.stamp[keep], added.stamp]),
            has_stamp=np.concatenate([old.has_stamp[keep], added.has_stamp]),
            active=np.concatenate([old.active[keep], added.active]),
            has_active=np.concatenate([old.has_active[keep], added.has_active]),
            waiting=np.concatenate([old.waiting[keep], added.waiting]),
            has_waiting=np.concatenate([old.has_waiting[keep], added.has_waiting]),
            language=np.concatenate([old.language[keep], added.language]),
            repo_key=[old.repo_key[r] for r in keep] + [i.repo.lower() for i, _ in fresh],
            niches=[old.niches[r] for r in keep] + added.niches,
            position={issue.url: row for row, issue in enumerate(issues)},
        )
        return snapshot

    def _signals(self, rows: _Rows, n: int, issue: Issue, vector: np.ndarray | None) -> None:
        if vector is not None:
            rows.vectors[n] = vector
            rows.embedded[n] = True
        rows.label[n] = self.labels.beginner_strength(issue.labels)
        rows.hard[n] = float(self.labels.is_hard(issue.labels))
        rows.marked_stale[n] = self.labels.stale_label(issue.labels) is not None
        kind = task_type(issue)
        rows.kind[n] = KIND_ID[kind]
        rows.difficulty[n] = difficulty(issue, self.labels, kind)
        rows.taken[n] = issue.is_taken
        rows.competition[n] = 1.0 if issue.is_taken else min(issue.comments, 20) / 80
        rows.welcome[n] = welcoming(issue)
        when = issue.updated_at or issue.created_at
        if when is not None:
            rows.stamp[n], rows.has_stamp[n] = _micros(when), True
        if issue.updated_at is not None:
            rows.active[n], rows.has_active[n] = _micros(issue.updated_at), True
        if issue.unanswered_comments and issue.unanswered_since is not None:
            rows.waiting[n], rows.has_waiting[n] = _micros(issue.unanswered_since), True
        language = issue_work_language(issue)
        rows.language[n] = -1 if language is None else self.language_id(language)
        rows.niches.append(frozenset(n.lower() for n in issue.niches or self.niches_of(issue.repo)))

    def language_id(self, language: str) -> int:
        return self.languages.setdefault(language, len(self.languages))

    def _count_terms(self, issue: Issue) -> tuple[np.ndarray, np.ndarray]:
        counted = Counter(
            self.vocabulary.setdefault(t, len(self.vocabulary))
            for t in tokenize(issue.embedding_text())
        )
        columns = sorted(counted)
        return (
            np.asarray(columns, dtype=np.int32),
            np.asarray([counted[c] for c in columns], dtype=np.float32),
        )

    def _counts(self, term_rows: list[tuple[np.ndarray, np.ndarray]]) -> sparse.csr_matrix:
        lengths = [len(columns) for columns, _ in term_rows]
        indptr = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        indices = np.concatenate([c for c, _ in term_rows]) if term_rows else np.zeros(0, np.int32)
        data = np.concatenate([d for _, d in term_rows]) if term_rows else np.zeros(0, np.float32)
        return sparse.csr_matrix(
            (data, indices, indptr), shape=(len(term_rows), len(self.vocabulary))
        )

    def waiting(self, limit: int | None = None) -> dict[str, str]:
        """Up to `limit` texts (hash -> text) still waiting for their vector."""
        with self._lock:
            return dict(list(self.pending.items())[:limit])

    def install_vectors(self, vectors: dict[str, np.ndarray]) -> int:
        """Vectors encoded elsewhere (the background embedder) join the index; rows updated."""
        with self._lock:
            old = self.snapshot
            rows = [r for r, h in enumerate(old.hashes) if h in vectors]
            for key in vectors:
                self.pending.pop(key, None)
            if not rows:
                return 0
            matrix = old.vectors.copy()
            if matrix.shape[1] == 0:
                matrix = np.zeros((len(old), len(next(iter(vectors.values())))), np.float32)
            embedded = old.embedded.copy()
            for row in rows:
                matrix[row] = vectors[old.hashes[row]]
                embedded[row] = True
            self.snapshot = _replace(old, vectors=matrix, embedded=embedded)
            self.generation += 1
            self._pools.clear()
            return len(rows)

    def pool(
        self,
        repos: Collection[str] | None = None,
        niches: Collection[str] | None = None,
        only_urls: Collection[str] | None = None,
    ) -> Pool:
        """The ranked pool for a filter (cached until the index changes)."""
        key = (
            None if repos is None else frozenset(r.lower() for r in repos),
            frozenset(n.lower() for n in niches) if niches else None,
            None if only_urls is None else frozenset(only_urls),
        )
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = build_pool(self.snapshot, *key)
                self._pools[key] = pool
                while len(self._pools) > POOL_CACHE:
                    self._pools.popitem(last=False)
            else:
                self._pools.move_to_end(key)
            return pool

    def vector_of(self, url: str) -> np.ndarray | None:
        snapshot = self.snapshot
        row = snapshot.position.get(url)
        return snapshot.vectors[row] if row is not None and snapshot.embedded[row] else None

    def terms_of(self, pool: Pool, position: int) -> frozenset[int]:
        """The term ids of one pooled issue (kept for issues once shown: top lists repeat)."""
        row = int(pool.rows[position])
        cache = pool.snapshot.term_sets
        found = cache.get(row)
        if found is None:
            found = cache[row] = frozenset(_row_terms(pool.snapshot.counts, row)[0].tolist())
        return found

    def matched_terms(self, pool: Pool, position: int, terms: Sequence[str]) -> list[str]:
        """Query terms that really occur in one pooled issue, in query order."""
        present = self.terms_of(pool, position)
        return [t for t in dict.fromkeys(terms) if self.vocabulary.get(t, -1) in present]


class _Rows:
    """Signal arrays for rows being added."""

    def __init__(self, n: int, dim: int):
        self.vectors = np.zeros((n, dim), dtype=np.float32)
        self.embedded = np.zeros(n, dtype=bool)
        self.label = np.zeros(n)
        self.hard = np.zeros(n)
        self.marked_stale = np.zeros(n, dtype=bool)
        self.kind = np.zeros(n, dtype=np.int8)
        self.taken = np.zeros(n, dtype=bool)
        self.competition = np.zeros(n)
        self.welcome = np.zeros(n)
        self.difficulty = np.zeros(n)
        self.stamp = np.zeros(n, dtype=np.int64)
        self.has_stamp = np.zeros(n, dtype=bool)
        self.active = np.zeros(n, dtype=np.int64)
        self.has_active = np.zeros(n, dtype=bool)
        self.waiting = np.zeros(n, dtype=np.int64)
        self.has_waiting = np.zeros(n, dtype=bool)
        self.language = np.full(n, -1, dtype=np.int32)
        self.niches: list[frozenset[str]] = []


def _empty_snapshot() -> Snapshot:
    return Snapshot(
        issues=[],
        hashes=[],
        vectors=np.zeros((0, 0), dtype=np.float32),
        embedded=np.zeros(0, dtype=bool),
        counts=sparse.csr_matrix((0, 0), dtype=np.float32),
        label=np.zeros(0),
        hard=np.zeros(0),
        marked_stale=np.zeros(0, dtype=bool),
        kind=np.zeros(0, dtype=np.int8),
        taken=np.zeros(0, dtype=bool),
        competition=np.zeros(0),
        welcome=np.zeros(0),
        difficulty=np.zeros(0),
        stamp=np.zeros(0, dtype=np.int64),
        has_stamp=np.zeros(0, dtype=bool),
        active=np.zeros(0, dtype=np.int64),
        has_active=np.zeros(0, dtype=bool),
        waiting=np.zeros(0, dtype=np.int64),
        has_waiting=np.zeros(0, dtype=bool),
        language=np.zeros(0, dtype=np.int32),
        repo_key=[],
        niches=[],
    )


def _replace(snapshot: Snapshot, **changes) -> Snapshot:
    values = {name: getattr(snapshot, name) for name in Snapshot.__dataclass_fields__}
    values.update(changes, term_sets={})
    return Snapshot(**values)


def _row_terms(counts: sparse.csr_matrix, row: int) -> tuple[np.ndarray, np.ndarray]:
    start, end = counts.indptr[row], counts.indptr[row + 1]
    return counts.indices[start:end].copy(), counts.data[start:end].copy()


def _widen(counts: sparse.csr_matrix, columns: int) -> sparse.csr_matrix:
    """The same rows with room for terms added to the vocabulary since."""
    return sparse.csr_matrix(
        (counts.data, counts.indices, counts.indptr), shape=(counts.shape[0], columns)
    )


def build_pool(
    snapshot: Snapshot,
    repos: frozenset[str] | None,
    niches: frozenset[str] | None,
    only_urls: frozenset[str] | None,
    k1: float = 1.5,
    b: float = 0.75,
) -> Pool:
    """Select the pool's rows and fit BM25 on them (as fitting on the pool's texts alone would)."""
    wanted = snapshot.embedded.copy()
    if repos is not None:
        wanted &= np.fromiter((r in repos for r in snapshot.repo_key), bool, len(snapshot))
    if niches:
        wanted &= np.fromiter((bool(niches & n) for n in snapshot.niches), bool, len(snapshot))
    if only_urls is not None:
        wanted &= np.fromiter((i.url in only_urls for i in snapshot.issues), bool, len(snapshot))
    rows = np.flatnonzero(wanted)
    every = len(rows) == len(snapshot)
    counts = snapshot.counts if every else snapshot.counts[rows]
    doc_len = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
    avg_len = doc_len.mean() if len(rows) else 0.0
    weights = bm25_weights(counts, doc_len, avg_len, bm25_idf(counts, len(rows)), k1, b)
    local = np.full(len(snapshot), -1, dtype=np.int64)
    local[rows] = np.arange(len(rows))
    urls = np.array([snapshot.issues[r].url for r in rows], dtype=object)
    by_url = np.argsort(urls, kind="stable")
    url_rank = np.empty(len(rows), dtype=np.int64)
    url_rank[by_url] = np.arange(len(rows))
    vectors = snapshot.vectors if every else snapshot.vectors[rows]
    return Pool(
        snapshot=snapshot,
        rows=rows,
        vectors=vectors,
        weights_t=weights.T.tocsr(),
        label=snapshot.label[rows],
        hard=snapshot.hard[rows],
        marked_stale=snapshot.marked_stale[rows],
        kind=snapshot.kind[rows],
        taken=snapshot.taken[rows],
        competition=snapshot.competition[rows],
        welcome=snapshot.welcome[rows],
        difficulty=snapshot.difficulty[rows],
        stamp=snapshot.stamp[rows],
        has_stamp=snapshot.has_stamp[rows],
        active=snapshot.active[rows],
        has_active=snapshot.has_active[rows],
        waiting=snapshot.waiting[rows],
        has_waiting=snapshot.has_waiting[rows],
        language=snapshot.language[rows],
        repos=[snapshot.issues[r].repo for r in rows],
        url_rank=url_rank,
        local=local,
        centre=pool_centre(vectors, by_url) if len(rows) else None,
    )


# --- scoring: pure functions of a pool and a batch of queries ---------------------------------


def query_matrix(queries: Sequence[Query], vocabulary: dict[str, int], columns: int):
    """(learners, vocabulary) CSR: a term given n times weighs sqrt(n), as BM25.score does."""
    indptr: list[int] = [0]
    indices: list[int] = []
    data: list[float] = []
    for query in queries:
        counted = Counter(vocabulary[t] for t in query.terms if t in vocabulary)
        cols = sorted(counted)
        indices.extend(cols)
        data.extend(np.sqrt(float(counted[c])) for c in cols)
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int32), indptr),
        shape=(len(queries), columns),
    )


def lexical_scores(pool: Pool, queries: Sequence[Query], vocabulary: dict[str, int]) -> np.ndarray:
    """BM25 of every pooled issue for every query (learners x pool), each row scaled by its best."""
    q = query_matrix(queries, vocabulary, pool.weights_t.shape[0])
    if len(queries) == 1:
        scores = (q @ pool.weights_t).toarray()
    else:  # only the batch's terms: (learners x terms) dense by (terms x pool) sparse
        used = np.unique(q.indices)
        scores = np.ascontiguousarray(q[:, used].toarray() @ pool.weights_t[used])
    top = scores.max(axis=1, initial=0.0)  # BM25 is never negative: a row topping at 0 is all 0
    scores /= np.where(top > 0, top, 1.0)[:, None]
    return scores


def language_scores(pool: Pool, queries: Sequence[Query], languages: dict[str, int]) -> np.ndarray:
    """+1 / -1 / 0 per query and pooled issue, as ranking.language_fit says."""
    member = np.zeros((len(queries), len(languages) + 1), dtype=bool)
    for j, query in enumerate(queries):
        for name in query.languages:
            if name in languages:
                member[j, languages[name]] = True
    known = pool.language >= 0
    fit = np.where(member[:, np.where(known, pool.language, len(languages))], 1.0, -1.0)
    fit[:, ~known] = 0.0
    fit[[not q.languages for q in queries]] = 0.0
    return fit


def intent_scores(pool: Pool, queries: Sequence[Query]) -> np.ndarray:
    """ranking.intent_fits per query and pooled issue, read by kind id."""
    table = np.stack([intent_fits(KINDS, q.intent) for q in queries])
    return table[:, pool.kind]


def task_scores(pool: Pool, queries: Sequence[Query]) -> np.ndarray:
    """signals.task_fit per query and pooled issue: a (learners x kinds) table read by kind id."""
    table = np.stack([task_fits(KINDS, asked_kinds(q)) for q in queries])
    return table[:, pool.kind]


def _days_before(now: datetime, stamps: np.ndarray) -> np.ndarray:
    """Days from each stamp to now, exact microseconds, as timedelta.total_seconds() uses."""
    seconds = (_micros(now) - stamps) / 10**6
    return np.maximum(seconds / 86400, 0.0)


def ramp_scores(pool: Pool, levels: Sequence[Level | None]) -> np.ndarray:
    """signals.ramp_fits per learner and pooled issue, as ranking.ramp_terms computes them; one
    row of zeros when nobody's ramp term is on."""
    if not any(level is not None and level.active for level in levels):
        return np.zeros((1, len(pool)))
    steps = KIND_STEP[pool.kind]
    return np.stack(
        [
            ramp_fits(steps, pool.difficulty, level.target)
            if level is not None and level.active
            else np.zeros(len(pool))
            for level in levels
        ]
    )


def freshness_scores(pool: Pool, now: datetime, half_life_days: float) -> np.ndarray:
    """ranking.freshness over the pool."""
    days = _days_before(now, pool.stamp)
    return np.where(pool.has_stamp, 0.5 ** (days / half_life_days), 0.5)


def neglect_scores(pool: Pool, now: datetime, settings: RankingSettings) -> np.ndarray:
    """ranking.neglect_of over the pool: unknown activity (no updated_at) is NaN, neutral."""
    idle = np.where(pool.has_active, _days_before(now, pool.active), np.nan)
    waiting = np.where(pool.has_waiting, _days_before(now, pool.waiting), np.nan)
    return neglect(
        idle,
        waiting,
        settings.stale_after_days,
        settings.unanswered_after_days,
        pool.marked_stale,
    )


def dense_scores(pool: Pool, queries: Sequence[Query], settings: RankingSettings) -> np.ndarray:
    """ranking.dense_similarity for every query (learners x pool); one learner exactly as there."""
    if settings.centre and pool.centre is not None:
        if len(queries) == 1:
            return centred_similarity(pool.vectors, pool.centre, queries[0].vector)[None, :]
        return centred_batch(pool.vectors, pool.centre, np.stack([q.vector for q in queries]))
    if len(queries) == 1:  # a matrix-vector product, exactly as ranking one learner always did
        return (pool.vectors @ queries[0].vector)[None, :]
    return np.stack([q.vector for q in queries]) @ pool.vectors.T


def centred_batch(vectors: np.ndarray, centre: Centre, queries: np.ndarray) -> np.ndarray:
    """ranking.centred_similarity for a batch of learners: one matrix product for all of them."""
    moved = queries.astype(np.float64) - centre.mean
    moved /= np.maximum(np.linalg.norm(moved, axis=1, keepdims=True), 1e-12)
    along = (moved.astype(vectors.dtype) @ vectors.T).astype(np.float64)
    return (along - (moved @ centre.mean)[:, None]) / centre.norms[None, :]


def score_batch(
    pool: Pool,
    queries: Sequence[Query],
    *,
    settings: RankingSettings,
    now: datetime,
    vocabulary: dict[str, int],
    languages: dict[str, int],
    shifts: Sequence[np.ndarray | None] | None = None,
    levels: Sequence[Level | None] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Scores (learners x pool) and their components, as ranking.score_candidates computes them.

    Per-issue components are (1 x pool) rows. The sum runs in ranking.combine's order, in place.
    """
    dense = dense_scores(pool, queries, settings)
    parts = {
        "dense": dense,
        "lexical": lexical_scores(pool, queries, vocabulary),
        "label": pool.label[None, :],
        "fresh": freshness_scores(pool, now, settings.freshness_half_life_days)[None, :],
        "taken": pool.competition[None, :],
        "hard": pool.hard[None, :],
        "language": language_scores(pool, queries, languages),
        "task": task_scores(pool, queries),
        "intent": intent_scores(pool, queries),
        "welcome": pool.welcome[None, :],
        "neglect": neglect_scores(pool, now, settings)[None, :],
        "ramp": ramp_scores(pool, levels or [None] * len(queries)),
    }
    score = (settings.dense * dense).astype(np.float64)
    score += settings.lexical * parts["lexical"]
    score += settings.beginner_label * parts["label"]
    score += settings.freshness * parts["fresh"]
    score -= settings.competition * parts["taken"]
    score -= settings.hard_label * parts["hard"]
    score += settings.language * parts["language"]
    score += settings.task_fit * parts["task"]
    score += settings.intent * parts["intent"]
    score += settings.welcoming * parts["welcome"]
    score -= settings.neglect * parts["neglect"]
    score += settings.ramp * parts["ramp"]
    for j, shift in enumerate(shifts or ()):
        if shift is not None:
            score[j] += settings.dense * shift
    return score, parts


def feedback_shifts(
    vectors: np.ndarray,
    liked: Sequence[np.ndarray | None],
    disliked: Sequence[np.ndarray | None],
) -> list[np.ndarray | None]:
    """ranking.feedback_shift for a batch of learners: one product per kind for all of them."""
    if len(liked) == 1:  # one learner: exactly the reference computation
        said = liked[0] is not None or disliked[0] is not None
        return [feedback_shift(vectors, liked[0], disliked[0]) if said else None]
    shifts: list[np.ndarray | None] = [None] * len(liked)
    for weight, groups in ((0.5, liked), (-0.8, disliked)):
        opinions = {j: g for j, g in enumerate(groups) if g is not None and len(g)}
        if not opinions:
            continue
        owners = list(opinions)
        similarity = np.vstack(list(opinions.values())) @ vectors.T  # (their issues, pool)
        np.clip(similarity, 0, None, out=similarity)
        sizes = np.array([len(opinions[j]) for j in owners], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        best = np.maximum.reduceat(similarity, starts, axis=0)
        for row, j in enumerate(owners):
            shift = shifts[j] if shifts[j] is not None else np.zeros(vectors.shape[0])
            if weight > 0:
                shift += weight * best[row]
            else:
                shift -= -weight * best[row]
            shifts[j] = shift
    for j, (like, dislike) in enumerate(zip(liked, disliked, strict=True)):
        if shifts[j] is None and (like is not None or dislike is not None):
            shifts[j] = np.zeros(vectors.shape[0])
    return shifts


def hold_hard_below_beginner(
    pool: Pool,
    score: np.ndarray,
    parts: dict[str, np.ndarray],
    column: int,
    eligible: np.ndarray,
    settings: RankingSettings,
) -> np.ndarray:
    """One learner's scores (row `column`) after signals.keep_hard_below_beginner, as ranking.rank
    applies it: fit from the dense and lexical terms, over the eligible issues only."""
    fit = settings.dense * parts["dense"][column] + settings.lexical * parts["lexical"][column]
    return keep_hard_below_beginner(
        score[column],
        fit,
        pool.hard > 0,
        pool.label > 0,
        settings.hard_label_margin,
        eligible=eligible,
    )


def select_top(
    score: np.ndarray,
    eligible: np.ndarray,
    pool: Pool,
    *,
    top_k: int,
    max_per_repo: int,
    diversity: bool = True,
) -> list[int]:
    """Pool positions of the best `top_k`, as a full sort of the eligible issues would give."""
    masked = np.where(eligible, score, -np.inf)
    total = int(np.count_nonzero(eligible))
    wanted = min(total, max(CANDIDATES, 3 * top_k))
    if wanted == 0:
        return []
    if wanted < total:
        threshold = -np.partition(-masked, wanted - 1)[wanted - 1]
        candidates = np.flatnonzero(masked >= threshold)  # every tie at the edge comes along
    else:
        candidates = np.flatnonzero(eligible)
    order = candidates[np.lexsort((pool.url_rank[candidates], -masked[candidates]))].tolist()
    if not diversity:
        return order[:top_k]
    chosen = diversify(order, pool.repos, max_per_repo, top_k)
    if len(candidates) < total and not _filled_within_cap(chosen, pool.repos, max_per_repo, top_k):
        everyone = np.flatnonzero(eligible)  # one repository crowds the top: walk the whole order
        order = everyone[np.lexsort((pool.url_rank[everyone], -masked[everyone]))].tolist()
        chosen = diversify(order, pool.repos, max_per_repo, top_k)
    return chosen


def _filled_within_cap(chosen: list[int], repos: list[str], max_per_repo: int, top_k: int) -> bool:
    per_repo = Counter(repos[i] for i in chosen)
    return len(chosen) == top_k and max(per_repo.values(), default=0) <= max_per_repo


def excluded_positions(pool: Pool, feedback: Feedback | None) -> np.ndarray:
    """Pool positions of the issues a learner dismissed or must not see now."""
    if feedback is None:
        return np.zeros(0, dtype=np.int64)
    position = pool.snapshot.position
    rows = [position[u] for u in feedback.dismissed | feedback.hidden if u in position]
    local = pool.local[np.asarray(rows, dtype=np.int64)] if rows else np.zeros(0, np.int64)
    return local[local >= 0]


def build_matches(
    index: RankingIndex,
    pool: Pool,
    query: Query,
    chosen: list[int],
    score: np.ndarray,
    parts: dict[str, np.ndarray],
    column: int,
    now: datetime,
    settings: RankingSettings | None = None,
    level: Level | None = None,
) -> list[Match]:
    """Matches with their reasons and components for one learner's chosen positions."""
    if not chosen:
        return []
    positions = np.asarray(chosen)
    names = list(parts)
    table = np.vstack(
        [parts[name][column if parts[name].shape[0] > 1 else 0, positions] for name in names]
    ).T.tolist()  # (chosen, components) as Python floats
    term_ids = [index.vocabulary.get(t, -1) for t in dict.fromkeys(query.terms)]
    asked = asked_kinds(query)
    terms = list(dict.fromkeys(query.terms))
    matches = []
    for position, row, value in zip(chosen, table, score[positions].tolist(), strict=True):
        issue = pool.issue(position)
        present = index.terms_of(pool, position)
        values = dict(zip(names, row, strict=True))
        matches.append(
            Match(
                issue=issue,
                score=value,
                reasons=reasons_for(
                    issue,
                    name_matches(
                        [t for t, i in zip(terms, term_ids, strict=True) if i in present],
                        query.phrases,
                    ),
                    values["dense"],
                    values["language"],
                    index.labels,
                    now,
                    asked,
                    ramp_reason(level, task_type(issue), values["ramp"], issue.repo),
                    settings=settings,
                ),
                components={name: round(v, 4) for name, v in values.items()},
            )
        )
    return matches
