"""Issues as arrays: a Snapshot holds every issue of a store (or a benchmark), a Pool the ones one
ranking looks at, with BM25 weighted on exactly them.

Building a snapshot is the warm-up: per-issue signals are computed once per issue (catalogue
lookups memoised by label set and repository, the texts tokenized in one pass), never per
learner. Nothing here is changed in place, so a ranking can keep using a snapshot or a pool
while a newer one is built beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime

import numpy as np
from scipy import sparse

from matcher.catalog import Labels
from matcher.lexical import (
    WEIGHT_BLOCK,
    WORK_LANGUAGES,
    Bm25Weights,
    KeptRows,
    bm25_idf,
    count_terms_and_cues,
    issue_work_cue_counts,
    language_of_work,
)
from matcher.models import Issue, text_hash
from matcher.ranking.records import RECORD_COLUMNS, IssueRecords, SharedValues, objects_array
from matcher.ranking.terms import KIND_ID, Centre, kind_of_text, micros, pool_centre
from matcher.ranking.vectors import WIDE_BLOCK, empty, is_compact, stored, width
from matcher.signals import (
    ALL_MARKS,
    TextFacts,
    difficulty_beyond_labels,
    label_difficulty,
    text_marks,
    welcoming,
)

NichesOf = Callable[[str], tuple[str, ...]]


@dataclass
class Lexicon:
    """Term and language ids shared by a snapshot and every snapshot built from it (grow-only)."""

    vocabulary: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    shared: SharedValues = field(default_factory=SharedValues)  # what issue records share

    def language_id(self, issue: Issue, cue_counts: Sequence[int]) -> int:
        """The id of the language an issue's work is in (issue_work_language, from its title's
        and body's work_cue_counts), -1 when nothing says."""
        name = language_of_work(issue.language, issue.labels, cue_counts)
        return -1 if name is None else self.languages.setdefault(name, len(self.languages))


@dataclass(frozen=True)
class Signals:
    """Every per-issue input of the score's terms, one array each, row-aligned with the issues."""

    label: np.ndarray  # beginner-label strength
    hard: np.ndarray  # 1.0 for a hard label
    marked_stale: np.ndarray  # bool: a stale label (signals.neglect counts it in full)
    kind: np.ndarray  # int8 id in terms.KINDS of terms.task_type
    taken: np.ndarray  # bool
    competition: np.ndarray  # 1 when taken, else a little for a crowded thread
    welcome: np.ndarray  # signals.welcoming
    difficulty: np.ndarray  # signals.difficulty
    stamp: np.ndarray  # int64 microseconds of updated_at (or created_at)
    has_stamp: np.ndarray  # bool
    active: np.ndarray  # int64 microseconds of updated_at alone (signals.days_idle)
    has_active: np.ndarray  # bool
    waiting: np.ndarray  # int64 microseconds of unanswered_since (signals.days_unanswered)
    has_waiting: np.ndarray  # bool: unanswered comments wait
    language: np.ndarray  # int32 language id, -1 when the repository's says nothing

    def take(self, rows: np.ndarray) -> Signals:
        return Signals(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


def _stamps(values: list[datetime | None]) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.array([0 if v is None else micros(v) for v in values], dtype=np.int64),
        np.array([v is not None for v in values], dtype=bool),
    )


def text_facts(issue: Issue, cues: int | None = None) -> TextFacts:
    """What an issue's title and body alone say for its signals; `cues`: as
    lexical.issue_work_language's."""
    return TextFacts(
        kind=kind_of_text(issue.title),
        marks=text_marks(issue.title, issue.body),
        cue_counts=issue_work_cue_counts(issue, cues),
    )


def sound_text_facts(facts: TextFacts) -> bool:
    """Whether TextFacts read back from the store can be used (a kind known, a count per
    language, no mark unknown)."""
    return (
        facts.kind in KIND_ID
        and len(facts.cue_counts) == len(WORK_LANGUAGES)
        and min(facts.cue_counts) >= 0
        and 0 <= facts.marks <= ALL_MARKS
    )


def issue_signals(
    issues: Sequence[Issue],
    labels: Labels,
    lexicon: Lexicon,
    cues: np.ndarray | None = None,
    facts: Sequence[TextFacts] | None = None,
) -> Signals:
    """The signals of many issues; the catalogue is asked once per distinct label set. `cues`:
    lexical.count_terms_and_cues' of their embedding texts, row-aligned (None: not at hand);
    `facts`: their text_facts, row-aligned (None: found here)."""
    if facts is None:
        masks = [None] * len(issues) if cues is None else cues.tolist()
        facts = [text_facts(i, m) for i, m in zip(issues, masks, strict=True)]
    by_labels: dict[tuple[str, ...], tuple[float, float, bool, str | None, float]] = {}
    for issue in issues:
        if issue.labels not in by_labels:
            by_labels[issue.labels] = (
                labels.beginner_strength(issue.labels),
                float(labels.is_hard(issue.labels)),
                labels.stale_label(issue.labels) is not None,
                kind_of_text(" ".join(issue.labels)),
                label_difficulty(issue, labels),
            )
    label_facts = [by_labels[i.labels] for i in issues]
    # terms.task_type: the labels' kind, else the title's
    kinds = [f[3] or t.kind for f, t in zip(label_facts, facts, strict=True)]
    taken = np.array([i.is_taken for i in issues], dtype=bool)
    comments = np.minimum(np.array([i.comments for i in issues], dtype=float), 20) / 80
    stamp, has_stamp = _stamps([i.updated_at or i.created_at for i in issues])
    active, has_active = _stamps([i.updated_at for i in issues])
    waiting, has_waiting = _stamps(
        [i.unanswered_since if i.unanswered_comments else None for i in issues]
    )
    return Signals(
        label=np.array([f[0] for f in label_facts], dtype=float),
        hard=np.array([f[1] for f in label_facts], dtype=float),
        marked_stale=np.array([f[2] for f in label_facts], dtype=bool),
        kind=np.array([KIND_ID[k] for k in kinds], dtype=np.int8),
        taken=taken,
        competition=np.where(taken, 1.0, comments),
        welcome=np.array([welcoming(i) for i in issues], dtype=float),
        difficulty=np.array(
            [
                difficulty_beyond_labels(f[4], i, k, t.marks)
                for i, f, k, t in zip(issues, label_facts, kinds, facts, strict=True)
            ],
            dtype=float,
        ),
        stamp=stamp,
        has_stamp=has_stamp,
        active=active,
        has_active=has_active,
        waiting=waiting,
        has_waiting=has_waiting,
        language=np.array(
            [lexicon.language_id(i, t.cue_counts) for i, t in zip(issues, facts, strict=True)],
            dtype=np.int32,
        ),
    )


@dataclass(frozen=True)
class UrlOrder:
    """A snapshot's rows sorted by URL, kept through merges: a refresh inserts the new URLs
    (k log n comparisons) instead of sorting every URL again (n log n, holding the GIL that
    a request ranking beside it needs)."""

    rows: np.ndarray  # int64 rows, by URL
    urls: np.ndarray  # object: the URLs in that order
    rank: np.ndarray  # int64: each row's place in that order

    @staticmethod
    def of(urls: Sequence[str] | np.ndarray) -> UrlOrder:
        values = np.array(urls, dtype=object).reshape(len(urls))
        rows = np.argsort(values, kind="stable")
        return UrlOrder(rows, values[rows], _inverse(rows))

    def merged(self, keep: np.ndarray, every: bool, added: UrlOrder) -> UrlOrder:
        """The order of `keep`'s rows (renumbered from 0) followed by `added`'s rows."""
        if every and not len(added.rows):
            return self  # rows only marked gone: the order stands
        rows, urls = self.rows, self.urls
        if not every:
            new_row = np.full(len(self.rank), -1, dtype=np.int64)
            new_row[keep] = np.arange(len(keep))
            rows = new_row[rows]
            kept = rows >= 0
            rows, urls = rows[kept], urls[kept]
        # after equal URLs: a URL's rows stay in row order (a gone row, then its newest)
        at = np.searchsorted(urls, added.urls, side="right")
        rows = np.insert(rows, at, added.rows + len(keep))
        return UrlOrder(rows, np.insert(urls, at, added.urls), _inverse(rows))

    def ranks(self, rows: np.ndarray) -> np.ndarray:
        """Each of `rows`' place among them by URL (0..len(rows) - 1)."""
        if np.array_equal(rows, np.arange(len(self.rank))):
            return self.rank
        return _inverse(np.argsort(self.rank[rows], kind="stable"))


def _inverse(order: np.ndarray) -> np.ndarray:
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.arange(len(order))
    return inverse


@dataclass(eq=False)
class Room:
    """A buffer with spare rows: a snapshot's vectors, or another of its row-aligned columns, are
    its first `used` rows, and the next snapshot appends in place (rows no older snapshot sees),
    so a refresh that adds issues neither copies the column nor holds two copies at once. Only
    the snapshot that viewed `used` rows last may append; anyone else copies."""

    buffer: np.ndarray
    used: int

    def holds(self, values: np.ndarray) -> bool:
        """Whether `values` are this buffer's rows in use (not a copy, not an older view)."""
        return (
            values.base is self.buffer
            and len(values) == self.used
            and values.shape[1:] == self.buffer.shape[1:]
            and values.ctypes.data == self.buffer.ctypes.data
        )

    def appended(self, values: np.ndarray, added: np.ndarray) -> Room:
        """A room whose rows in use are `values`, then `added`: this one, written in place, when
        it holds `values` and has the rows; else a new one with rows to spare (one copy)."""
        n, total = len(values), len(values) + len(added)
        if self.holds(values) and total <= len(self.buffer) and added.dtype == self.buffer.dtype:
            self.buffer[n:total] = added
            self.used = total
            return self
        return Room.of([values, added])

    @staticmethod
    def of(parts: Sequence[np.ndarray]) -> Room:
        """A new room holding `parts`, one after the other, with rows to spare."""
        n = sum(len(part) for part in parts)
        dtype = np.result_type(*parts)
        buffer = np.empty((n + spare_rows(n), *parts[0].shape[1:]), dtype=dtype)
        start = 0
        for part in parts:
            buffer[start : start + len(part)] = part
            start += len(part)
        return Room(buffer, n)


VECTOR_ROOM = 0.125  # spare rows a merge leaves, as a share of the rows (at least 256)


HASH_BYTES = 32  # a sha256 digest (models.text_hash)


def hash_array(hashes: Sequence[str]) -> np.ndarray:
    """Text hashes (models.text_hash: 64 hex digits) as their 32 bytes, an "S32" array (numpy
    drops an "S" value's trailing zero bytes: equal hashes stay equal; hash_of restores them)."""
    return np.array([bytes.fromhex(h) for h in hashes], dtype="S32").reshape(len(hashes))


def room_with(
    room: Room | None,
    start: int,
    matrix: np.ndarray,
    embedded: np.ndarray,
    expected: int,
    compact: bool,
) -> Room | None:
    """`room` with `matrix` (float32) written from row `start` on (a first build, page by page):
    made on the first vectors for `expected` rows and room to spare, compact or not
    (compact_vectors), grown (one copy) if more come. Rows of another width than the buffer's
    are left unembedded (never within one model)."""
    end = start + len(matrix)
    if matrix.shape[1] == 0:
        return room
    if room is None:
        capacity = max(expected, end)
        room = Room(empty(capacity + spare_rows(capacity), matrix.shape[1], compact), 0)
    if matrix.shape[1] != width(room.buffer):
        embedded[:] = False
        return room
    if end > len(room.buffer):
        grown = np.zeros((end + spare_rows(end), *room.buffer.shape[1:]), room.buffer.dtype)
        grown[:start] = room.buffer[:start]
        room = Room(grown, start)
    room.buffer[start:end] = stored(matrix, room.buffer)
    room.used = end
    return room


def spare_rows(rows: int) -> int:
    """The rows a vectors buffer of `rows` keeps spare (np.zeros: not resident until written)."""
    return max(int(rows * VECTOR_ROOM), 256)


def weight_dtype(snapshot: Snapshot) -> type:
    """The BM25 weights' type for pools of `snapshot`: float32 when its vectors are compact
    (above the candidate threshold: see compact_vectors), else float64, as ever."""
    return np.float32 if is_compact(snapshot.vectors) else np.float64


def compact_vectors(rows: int, compact_above: int | None) -> bool:
    """Whether a snapshot of `rows` keeps its vectors compact (int8 codes and a scale per row:
    matcher.ranking.vectors): above `compact_above` rows, the candidate stage's threshold, where
    only a learner's candidates, a few thousand rows, are widened to float32 (None: never)."""
    return compact_above is not None and rows > compact_above


SHOWN_KEPT = 20_000  # shown issues a snapshot keeps made (about 1.5 KB each)


@dataclass(frozen=True, eq=False)
class Snapshot:
    """Issues, their vectors, term counts and signals at one moment; never changed in place."""

    records: IssueRecords  # the issues without their bodies (read only while building)
    hashes: np.ndarray  # "S32": each row's text hash as its 32 bytes (hash_of), no str per row
    # (n, dim) float32, L2-normalised (above the candidate stage's threshold, n compact rows:
    # compact_vectors, matcher.ranking.vectors); zeros where not embedded yet
    vectors: np.ndarray
    embedded: np.ndarray  # bool
    # (vocabulary, n) term counts, term-major (a term's row: the rows holding it, ascending),
    # in the smallest unsigned integer type that holds them (term_major); the last rows' in
    # `tail_t` when merges added rows since (their own columns from 0: see merged_counts)
    counts_t: sparse.csr_matrix
    signals: Signals
    repo_key: list[str]  # repository, lower case (filters)
    niches: list[frozenset[str]]  # lower case
    url_order: UrlOrder  # the rows by URL (ties in the ranking break on URL; rows_of)
    tail_t: sparse.csr_matrix | None = None  # term counts of rows appended since counts_t's
    room: Room | None = None  # the buffer `vectors` are the first rows of, if any
    # the buffers its other row-aligned columns (row_columns) are the first rows of, by name
    rooms: dict[str, Room] = field(default_factory=dict)
    shown: dict[int, Issue] = field(default_factory=dict)  # issue(row)s made so far
    # bool: rows whose issue was closed or re-worded since (None: none), left in place until a
    # merge drops them (kept_rows): no list shows them, BM25 and the centre leave them out
    gone: np.ndarray | None = None

    def __len__(self) -> int:
        """Rows, the gone ones included (held_issues: without them)."""
        return len(self.records)

    @property
    def held_issues(self) -> int:
        """The issues the snapshot holds: its rows but the gone ones."""
        return len(self) - (0 if self.gone is None else int(self.gone.sum()))

    def shown_rows(self) -> np.ndarray:
        """bool per row: embedded and not gone (what a pool may rank)."""
        return self.embedded if self.gone is None else self.embedded & ~self.gone

    def issue(self, row: int) -> Issue:
        """The issue at `row`, without its body (IssueRecords); kept once made: top lists
        repeat the same issues across learners."""
        found = self.shown.get(row)
        if found is None:
            if len(self.shown) >= SHOWN_KEPT:  # a digest of a million-issue store shows many
                self.shown.clear()
            found = self.shown[row] = self.records.issue(row)
        return found

    def hash_of(self, row: int) -> str:
        """The text hash of one row."""
        return self.hashes[row].ljust(HASH_BYTES, b"\0").hex()

    def rows_of(self, urls: Sequence[str]) -> np.ndarray:
        """The row of each URL, -1 for one the snapshot does not hold (or holds gone): a binary
        search of the URL order (no dictionary of every URL beside it). A URL's gone rows come
        before its newest row there (UrlOrder.merged), so the last of its rows is the one."""
        order = self.url_order
        wanted = objects_array(urls)
        if not len(order.urls) or not len(wanted):
            return np.full(len(wanted), -1, dtype=np.int64)
        at = np.maximum(np.searchsorted(order.urls, wanted, side="right") - 1, 0)
        rows = np.where(order.urls[at] == wanted, order.rows[at], -1)
        if self.gone is not None:
            rows[(rows >= 0) & self.gone[np.maximum(rows, 0)]] = -1
        return rows

    def row_of(self, url: str) -> int | None:
        """The row of one URL (None: not held)."""
        row = int(self.rows_of([url])[0])
        return None if row < 0 else row

    def holders(self, term: int, rows: np.ndarray) -> np.ndarray:
        """Which of `rows` hold term id `term` (bool each): a binary search of its postings."""
        if self.tail_t is None:
            return _holders(self.counts_t, term, rows)
        first = self.counts_t.shape[1]
        before = rows < first
        found = np.zeros(len(rows), dtype=bool)
        found[before] = _holders(self.counts_t, term, rows[before])
        found[~before] = _holders(self.tail_t, term, rows[~before] - first)
        return found

    def term_segments(self) -> list[sparse.csr_matrix]:
        """The term counts of consecutive rows: counts_t's, then tail_t's if any."""
        return [self.counts_t] if self.tail_t is None else [self.counts_t, self.tail_t]


def _holders(counts_t: sparse.csr_matrix, term: int, rows: np.ndarray) -> np.ndarray:
    """Which of `rows` (columns of `counts_t`) hold term id `term`."""
    if not 0 <= term < counts_t.shape[0]:
        return np.zeros(len(rows), dtype=bool)
    postings = counts_t.indices[counts_t.indptr[term] : counts_t.indptr[term + 1]]
    rows = rows.astype(postings.dtype)  # else numpy widens every posting to search them
    at = np.minimum(np.searchsorted(postings, rows), max(len(postings) - 1, 0))
    return postings[at] == rows if len(postings) else np.zeros(len(rows), dtype=bool)


def row_columns(snapshot: Snapshot) -> dict[str, np.ndarray]:
    """A snapshot's row-aligned columns but its vectors, by name: what a merge appends to."""
    return {
        **{f"records.{f}": getattr(snapshot.records, f) for f in RECORD_COLUMNS},
        **{f"signals.{f.name}": getattr(snapshot.signals, f.name) for f in fields(Signals)},
        "hashes": snapshot.hashes,
        "embedded": snapshot.embedded,
    }


def _from_columns(at: dict[str, np.ndarray], shared: SharedValues) -> dict:
    """Snapshot fields from row_columns' columns."""
    return {
        "records": IssueRecords(shared=shared, **{f: at[f"records.{f}"] for f in RECORD_COLUMNS}),
        "signals": Signals(**{f.name: at[f"signals.{f.name}"] for f in fields(Signals)}),
        "hashes": at["hashes"],
        "embedded": at["embedded"],
    }


def build_snapshot(
    issues: Sequence[Issue],
    hashes: Sequence[str],
    vectors: dict[str, np.ndarray] | tuple[np.ndarray, np.ndarray],
    labels: Labels,
    niches_of: NichesOf,
    lexicon: Lexicon,
    dim: int = 0,
    facts: Sequence[TextFacts] | None = None,
) -> Snapshot:
    """A snapshot of `issues`; `vectors` by text hash (an issue without one waits, unpooled),
    or already row-aligned: (matrix, embedded), kept as they are. `facts`: the issues'
    text_facts, row-aligned, when already at hand (None: found here)."""
    if isinstance(vectors, tuple):
        matrix, embedded = vectors
    else:
        dim = next((len(v) for v in vectors.values()), dim)
        matrix = np.zeros((len(issues), dim), dtype=np.float32)
        embedded = np.zeros(len(issues), dtype=bool)
        for row, text_hash in enumerate(hashes):
            vector = vectors.get(text_hash)
            if vector is not None:
                matrix[row] = vector
                embedded[row] = True
    counts, cues = count_terms_and_cues((i.embedding_text() for i in issues), lexicon.vocabulary)
    repo_niches: dict[str, frozenset[str]] = {}  # the catalogue asked once per repository
    own_niches: dict[tuple[str, ...], frozenset[str]] = {}  # one set per distinct niches
    keys: dict[str, str] = {}  # one lower-case name per repository, shared by its rows
    niches = []
    for issue in issues:
        if issue.niches:
            found = own_niches.get(issue.niches)
            if found is None:
                found = own_niches[issue.niches] = frozenset(n.lower() for n in issue.niches)
            niches.append(found)
            continue
        if issue.repo not in repo_niches:
            repo_niches[issue.repo] = frozenset(n.lower() for n in niches_of(issue.repo))
        niches.append(repo_niches[issue.repo])
    return Snapshot(
        records=IssueRecords.of(issues, lexicon.shared),
        hashes=hash_array(hashes),
        vectors=matrix,
        embedded=embedded,
        counts_t=term_major(counts),
        signals=issue_signals(issues, labels, lexicon, cues, facts),
        repo_key=[keys.get(i.repo) or keys.setdefault(i.repo, i.repo.lower()) for i in issues],
        niches=niches,
        url_order=UrlOrder.of([i.url for i in issues]),
    )


def empty_snapshot(lexicon: Lexicon) -> Snapshot:
    return build_snapshot([], [], {}, Labels({}, frozenset()), lambda _: (), lexicon)


class Pages:
    """A first build's snapshot, a page of issues at a time: each page's columns are written into
    buffers sized for the rows expected (untouched rows are not resident), its vectors into one
    Room, so joining the pages copies nothing but their term counts, and no page's store
    rows, tokens or bodies outlive its own build."""

    def __init__(self, lexicon: Lexicon, expected: int, compact: bool) -> None:
        self.lexicon = lexicon
        self.expected = expected
        self.compact = compact  # the vectors kept compact (compact_vectors)
        self.rows = 0
        self.room: Room | None = None
        self.rooms: dict[str, Room] = {}  # row_columns' buffers
        self.counts: list[sparse.csr_matrix] = []
        self.url_order: UrlOrder | None = None  # the first page's, while it is the only one
        self.repo_key: list[str] = []
        self.niches: list[frozenset[str]] = []

    def vectors_at(self, matrix: np.ndarray, embedded: np.ndarray) -> np.ndarray:
        """The next page's vectors written into the room (`embedded` cleared where their width is
        not the room's); the rows to build its snapshot with."""
        self.room = room_with(self.room, self.rows, matrix, embedded, self.expected, self.compact)
        end = self.rows + len(matrix)
        return matrix[:, :0] if self.room is None else self.room.buffer[self.rows : end]

    def add(self, page: Snapshot) -> None:
        """Keep a page built with vectors_at's rows."""
        for name, values in row_columns(page).items():
            self._append(name, values)
        # kept term-major while there is one page; from the second on, row-major (stacked_terms)
        self.counts.append(page.counts_t)
        if len(self.counts) == 2:
            self.counts[0] = _small(self.counts[0].T.tocsr())
        if len(self.counts) >= 2:
            self.counts[-1] = _small(self.counts[-1].T.tocsr())
        self.url_order = page.url_order if not self.rows else None
        self.repo_key += page.repo_key
        self.niches += page.niches
        self.rows += len(page)

    def snapshot(self) -> Snapshot:
        if not self.rows:
            return empty_snapshot(self.lexicon)
        at = {name: room.buffer[: room.used] for name, room in self.rooms.items()}
        columns = _from_columns(at, self.lexicon.shared)
        room, total = self.room, self.rows
        return Snapshot(
            **columns,
            vectors=room.buffer[:total] if room is not None else np.zeros((total, 0), np.float32),
            counts_t=self._counts_t(),
            repo_key=self.repo_key,
            niches=self.niches,
            url_order=self.url_order or UrlOrder.of(columns["records"].urls),
            room=room,
            rooms=self.rooms,
        )

    def _counts_t(self) -> sparse.csr_matrix:
        terms = len(self.lexicon.vocabulary)
        if len(self.counts) == 1:
            return _terms(self.counts[0], terms)
        return stacked_terms(self.counts, terms)

    def _append(self, name: str, values: np.ndarray) -> None:
        room = self.rooms.get(name)
        end = self.rows + len(values)
        if room is None or end > len(room.buffer):
            # spare rows past the rows expected, for the merges to come (untouched until then)
            capacity = max(self.expected, end)
            grown = np.empty((capacity + spare_rows(capacity), *values.shape[1:]), values.dtype)
            if room is not None:
                grown[: self.rows] = room.buffer[: self.rows]
            room = self.rooms[name] = Room(grown, self.rows)
        room.buffer[self.rows : end] = values
        room.used = end


def stacked_terms(pages: Sequence[sparse.csr_matrix], terms: int) -> sparse.csr_matrix:
    """Row-major counts of consecutive pages of rows as one term-major matrix of `terms` rows
    (the vocabulary grew while they were built): each page's entries are written once into the
    result, a term's postings ascending. Pages are kept row-major until then: a term-major page
    holds an index per term of the vocabulary, a million of them per page at a million issues."""
    held = np.zeros(terms, dtype=np.int64)  # entries per term, over every page
    for page in pages:
        held += np.bincount(page.indices, minlength=terms)
    indptr = np.zeros(terms + 1, dtype=np.int64)
    np.cumsum(held, out=indptr[1:])
    free = indptr[:-1].copy()  # where each term's next entry goes
    data = np.empty(int(indptr[-1]), dtype=np.result_type(*(p.data.dtype for p in pages)))
    rows = sum(p.shape[0] for p in pages)
    indices = np.empty(int(indptr[-1]), dtype=np.int32 if rows < 2**31 else np.int64)
    first = 0
    for page in pages:
        order = np.argsort(page.indices, kind="stable")  # by term, rows ascending within one
        term = page.indices[order]
        starts = np.flatnonzero(np.diff(term, prepend=-1))  # where each term's entries begin
        sizes = np.diff(starts, append=len(term))
        within = np.arange(len(term)) - np.repeat(starts, sizes)
        at = free[term] + within
        data[at] = page.data[order]
        indices[at] = np.repeat(np.arange(page.shape[0]), np.diff(page.indptr))[order] + first
        free[term[starts]] += sizes
        first += page.shape[0]
    return _small(sparse.csr_matrix((data, indices, indptr), shape=(terms, rows)))


def appended_terms(
    counts_t: sparse.csr_matrix, added_t: sparse.csr_matrix, terms: int
) -> sparse.csr_matrix:
    """Term-major counts of `counts_t`'s rows, then `added_t`'s, `terms` rows (the vocabulary
    grew): each entry written once into the result, a block of entries at a time (scipy's hstack
    makes int64 copies of every index first)."""
    old, new = _terms(counts_t, terms), _terms(added_t, terms)
    before, after = np.diff(old.indptr), np.diff(new.indptr)
    indptr = np.zeros(terms + 1, dtype=np.int64)
    np.cumsum(before + after, out=indptr[1:])
    data = np.empty(int(indptr[-1]), dtype=np.result_type(old.data.dtype, new.data.dtype))
    rows = old.shape[1] + new.shape[1]
    indices = np.empty(int(indptr[-1]), dtype=np.int32 if rows < 2**31 else np.int64)
    # an entry's place: its term's start in the result, plus its rank within the term
    for part, start, first in ((old, indptr[:-1], 0), (new, indptr[:-1] + before, old.shape[1])):
        shift = start - part.indptr[:-1]
        for low in range(0, part.nnz, WEIGHT_BLOCK):
            high = min(low + WEIGHT_BLOCK, part.nnz)
            at = np.arange(low, high, dtype=np.int64)
            at += shift[np.searchsorted(part.indptr, at, side="right") - 1]
            data[at] = part.data[low:high]
            indices[at] = part.indices[low:high] + first
    return _small(sparse.csr_matrix((data, indices, indptr), shape=(terms, rows)))


def document_lengths(counts_t: sparse.csr_matrix, documents: int) -> np.ndarray:
    """Each document's number of terms (a column sum of term-major counts, float64), a block of
    entries at a time: np.bincount would widen every index and count to 8 bytes at once."""
    lengths = np.zeros(documents, dtype=np.float64)
    for low in range(0, counts_t.nnz, WEIGHT_BLOCK):
        high = low + WEIGHT_BLOCK
        lengths += np.bincount(
            counts_t.indices[low:high], weights=counts_t.data[low:high], minlength=documents
        )
    return lengths


def merge_snapshots(
    old: Snapshot,
    keep: np.ndarray,
    added: Snapshot,
    columns: int,
    compact: bool = False,
) -> Snapshot:
    """`old`'s rows `keep`, then every row of `added` (built with the same Lexicon); vectors
    kept compact or not (compact_vectors). `keep` holds no gone row unless it holds every row
    (then they stay gone: see with_gone)."""
    dim = max(width(old.vectors), width(added.vectors))
    every = len(keep) == len(old)  # nothing removed: no gather
    rooms = _merged_columns(old, keep, every, added)
    counts_t, tail_t = merged_counts(old, keep, every, added.counts_t, columns)
    at = {name: room.buffer[: room.used] for name, room in rooms.items()}
    vectors, room = _merged_vectors(old, keep, every, added.vectors, dim, compact)
    return Snapshot(
        **_from_columns(at, old.records.shared),
        vectors=vectors,
        counts_t=counts_t,
        tail_t=tail_t,
        repo_key=_merged_list(old.repo_key, keep, every, added.repo_key),
        niches=_merged_list(old.niches, keep, every, added.niches),
        url_order=old.url_order.merged(keep, every, added.url_order),
        room=room,
        rooms=rooms,
        gone=None if old.gone is None or not every else _grown(old.gone, len(added)),
    )


def _merged_list(old: list, keep: np.ndarray, every: bool, added: list) -> list:
    """`old`'s values at `keep`, then `added`'s: `old` itself when that is all (lists are
    never changed in place once a snapshot holds them)."""
    if every and not added:
        return old
    return (old if every else [old[r] for r in keep]) + added


GONE_SHARE = 0.125  # gone rows a snapshot keeps, as a share of its rows, before a merge drops them


def kept_rows(snapshot: Snapshot, added: int) -> np.ndarray:
    """The rows a merge that adds `added` rows keeps: every row while the gone ones stay within
    GONE_SHARE of the rows (they stay, gone, and the merge copies nothing), else every row but
    the gone ones (one copy of every column drops them for good)."""
    gone = snapshot.gone
    if gone is None or gone.sum() <= GONE_SHARE * (len(snapshot) + added):
        return np.arange(len(snapshot), dtype=np.int64)
    return np.flatnonzero(~gone)


def with_gone(old: Snapshot, rows: np.ndarray) -> Snapshot:
    """`old` with `rows` gone: still there, but no pool ranks them (Pool.hidden), no URL finds
    them (rows_of), and merges keep them until one drops them (kept_rows)."""
    if not len(rows):
        return old
    gone = np.zeros(len(old), dtype=bool) if old.gone is None else old.gone.copy()
    gone[rows] = True
    return replace(old, gone=gone, shown={})


def _grown(values: np.ndarray, rows: int) -> np.ndarray:
    """`values` (bool) with `rows` False rows after them."""
    return np.concatenate([values, np.zeros(rows, dtype=bool)])


TAIL_SHARE = 0.125  # a tail of counts is folded into the rest past this share of its rows


def merged_counts(
    old: Snapshot, keep: np.ndarray, every: bool, added_t: sparse.csr_matrix, terms: int
) -> tuple[sparse.csr_matrix, sparse.csr_matrix | None]:
    """The term counts (counts_t, tail_t) of `old`'s rows `keep`, then `added_t`'s. A merge that
    only adds rows appends them to the tail, so the counts of every other row are neither copied
    nor held twice (term-major counts cannot take rows in place: each term's postings would grow
    in the middle); the tail is folded in once it passes TAIL_SHARE of the rest. A merge that
    removes rows copies the kept columns of counts_t once (scipy's column selection: one pass),
    and the tail's kept rows with the added ones make the new tail."""
    counts_t, kept_tail = old.counts_t, old.tail_t
    if every and not added_t.shape[1]:
        return counts_t, kept_tail  # rows only marked gone (segments may hold fewer terms)
    if not every:
        split = int(np.searchsorted(keep, counts_t.shape[1]))
        if kept_tail is not None:
            kept_tail = kept_tail[:, keep[split:] - counts_t.shape[1]]
        counts_t = counts_t[:, keep[:split]]
    if kept_tail is None:
        tail = _terms(added_t, terms)
    else:
        tail = appended_terms(kept_tail, added_t, terms)
    if tail.shape[1] > TAIL_SHARE * counts_t.shape[1]:
        return appended_terms(counts_t, tail, terms), None
    return counts_t, tail


def joined_counts(snapshot: Snapshot) -> sparse.csr_matrix:
    """Every row's term counts as one term-major matrix (a copy when there is a tail)."""
    if snapshot.tail_t is None:
        return snapshot.counts_t
    terms = max(snapshot.counts_t.shape[0], snapshot.tail_t.shape[0])
    return appended_terms(snapshot.counts_t, snapshot.tail_t, terms)


def _merged_columns(
    old: Snapshot, keep: np.ndarray, every: bool, added: Snapshot
) -> dict[str, Room]:
    """Rooms of `old`'s row-aligned columns at rows `keep`, then `added`'s: appended in place
    where nothing was removed and old's room has the rows (Room.appended), else copied once."""
    new = row_columns(added)
    rooms = {}
    for name, values in row_columns(old).items():
        room = old.rooms.get(name)
        if every and room is not None:
            rooms[name] = room.appended(values, new[name])
        else:
            rooms[name] = Room.of([values if every else values[keep], new[name]])
    return rooms


def _merged_vectors(
    old: Snapshot, keep: np.ndarray, every: bool, added: np.ndarray, dim: int, compact: bool
) -> tuple[np.ndarray, Room]:
    """`old`'s vectors at rows `keep`, then `added`: appended in place when old's buffer has the
    room (and old is its latest view), else copied once into a new buffer with room to spare."""
    n, total = len(keep), len(keep) + len(added)
    room = old.room
    if (
        every
        and room is not None
        and room.holds(old.vectors)
        and len(room.buffer) >= total
        and width(room.buffer) == dim
        and is_compact(room.buffer) == compact
    ):
        room.buffer[n:total] = stored(_width(added, dim), room.buffer)
        room.used = total
        return room.buffer[:total], room
    buffer = empty(total + spare_rows(total), dim, compact)
    source = _width(old.vectors, dim)
    if source.dtype == buffer.dtype and not every:
        # mode="clip" (keep is in range): the default, "raise", gathers into a temporary first
        np.take(source, keep, axis=0, out=buffer[:n], mode="clip")
    else:
        _write(buffer, source, None if every else keep)
    buffer[n:total] = stored(_width(added, dim), buffer)
    return buffer[:total], Room(buffer, total)


def _write(buffer: np.ndarray, source: np.ndarray, keep: np.ndarray | None = None) -> None:
    """`source`'s rows (those at `keep`, if given) into `buffer`'s first rows, gathered and
    converted a block at a time when kept otherwise: no copy of every row in either form."""
    count = len(source) if keep is None else len(keep)
    for start in range(0, count, WIDE_BLOCK):
        end = min(start + WIDE_BLOCK, count)
        rows = source[start:end] if keep is None else source[keep[start:end]]
        buffer[start:end] = stored(rows, buffer)


def with_vectors(
    old: Snapshot, vectors: dict[str, np.ndarray], compact: bool = False
) -> tuple[Snapshot, np.ndarray]:
    """`old` with vectors (by text hash) filled in where it lacked them; (snapshot, rows set).

    Written in place into old's buffer when it is the buffer's latest view (rows not embedded
    are in no focus pool and hidden in the pool of every row: a ranking reading one meanwhile
    gives it -inf whatever it reads), else into a new buffer (compact or not) with room to
    spare."""
    found = np.flatnonzero(np.isin(old.hashes, hash_array(list(vectors))) & ~old.embedded)
    rows = found.tolist()
    if not rows:
        return old, found
    dim = len(next(iter(vectors.values())))
    room = old.room
    if room is None or not room.holds(old.vectors) or width(room.buffer) != dim:
        n = len(old)
        room = Room(empty(n + spare_rows(n), dim, compact), n)
        _write(room.buffer, _width(old.vectors, dim))
    matrix = room.buffer[: len(old)]
    matrix[rows] = stored(np.stack([vectors[old.hash_of(row)] for row in rows]), matrix)
    embedded = old.embedded.copy()
    embedded[rows] = True
    return replace(old, vectors=matrix, embedded=embedded, room=room, shown={}), found


def _width(vectors: np.ndarray, dim: int) -> np.ndarray:
    """Vectors of `dim` columns (a snapshot with nothing embedded yet has none)."""
    return vectors if width(vectors) == dim else np.zeros((len(vectors), dim), np.float32)


def _terms(counts_t: sparse.csr_matrix, terms: int) -> sparse.csr_matrix:
    """The same term-major counts with (empty) rows for terms added to the vocabulary since."""
    indptr = counts_t.indptr
    if terms > counts_t.shape[0]:
        indptr = np.concatenate([indptr, np.full(terms - counts_t.shape[0], indptr[-1])])
    return sparse.csr_matrix(
        (counts_t.data, counts_t.indices, indptr), shape=(terms, counts_t.shape[1])
    )


def term_major(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """Row-major (issues x vocabulary) term counts as a snapshot keeps them: term-major, so a
    pool's BM25 weights are computed in that order and share their indices, in the smallest
    unsigned integer type that holds them."""
    return _small(counts.T.tocsr())


def _small(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """The counts' values as uint8, else uint16, else uint32 (term counts: whole numbers)."""
    top = int(counts.data.max()) if counts.nnz else 0
    dtype = np.uint8 if top <= 0xFF else np.uint16 if top <= 0xFFFF else np.uint32
    if counts.data.dtype != dtype:
        counts.data = counts.data.astype(dtype)
    return counts


@dataclass(frozen=True, eq=False)
class Pool:
    """The open, embedded issues one ranking looks at, with BM25 fitted on exactly them."""

    snapshot: Snapshot
    rows: np.ndarray  # snapshot rows in the pool
    vectors: np.ndarray
    bm25: Bm25Weights  # (vocabulary, n) BM25 weights, computed for the terms a query asks
    signals: Signals
    repos: list[str]
    url_rank: np.ndarray  # ties break on URL
    local: np.ndarray  # snapshot row -> pool position, -1 outside the pool
    centre: Centre | None  # terms.pool_centre, for the centred dense similarity
    labelled: np.ndarray  # positions with a beginner or a hard label (the hard-label rule's)
    # positions no list shows and BM25 and the centre leave out (int64, ascending): the pool of
    # every row keeps the gone and not yet embedded ones in place rather than copy the rest
    hidden: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # terms.phrase_parts: (word, its phrases) -> its BM25 row where the phrase is not whole (kept
    # apart from terms.kept's few entries per pool: a community's profiles hold many)
    phrase_rows: KeptRows = field(default_factory=KeptRows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def showable(self) -> int:
        """Positions a list may show: every one but the hidden."""
        return len(self.rows) - len(self.hidden)

    def issue(self, position: int) -> Issue:
        """The issue at a pool position, without its body (IssueRecords)."""
        return self.snapshot.issue(int(self.rows[position]))

    def positions_of(self, urls: Collection[str]) -> np.ndarray:
        """Pool positions of these URLs (those outside the pool are left out)."""
        rows = self.snapshot.rows_of(list(urls))
        local = self.local[rows[rows >= 0]]
        return local[local >= 0]


def select_rows(
    snapshot: Snapshot,
    repos: frozenset[str] | None = None,
    niches: frozenset[str] | None = None,
    only_urls: frozenset[str] | None = None,
) -> np.ndarray:
    """The embedded rows a focus keeps, none gone (repositories and niches lower case; None:
    any)."""
    wanted = snapshot.shown_rows().copy()
    n = len(snapshot)
    if repos is not None:
        wanted &= np.fromiter((r in repos for r in snapshot.repo_key), bool, n)
    if niches:
        wanted &= np.fromiter((bool(niches & found) for found in snapshot.niches), bool, n)
    if only_urls is not None:
        wanted &= np.fromiter((u in only_urls for u in snapshot.records.urls), bool, n)
    return np.flatnonzero(wanted)


def build_pool(
    snapshot: Snapshot, rows: np.ndarray | None = None, k1: float = 1.5, b: float = 0.75
) -> Pool:
    """The pool of `rows`, BM25 fitted on them (as fitting on their texts alone would). None: the
    pool of every issue, over every row in place: its gone and not yet embedded rows hidden
    (Pool.hidden), as if they were not there."""
    identity = rows is None  # every row, in order
    if rows is None:
        rows = np.arange(len(snapshot), dtype=np.int64)
        hidden = np.flatnonzero(~snapshot.shown_rows())
    else:
        hidden = np.zeros(0, dtype=np.int64)
    every = len(rows) == len(snapshot)
    segments = snapshot.term_segments() if every else [joined_counts(snapshot)[:, rows]]
    terms = max(c.shape[0] for c in segments)
    lengths = [document_lengths(c, c.shape[1]) for c in segments]
    doc_len = lengths[0] if len(lengths) == 1 else np.concatenate(lengths)
    shown = len(rows) - len(hidden)
    avg_len = (np.delete(doc_len, hidden) if len(hidden) else doc_len).mean() if shown else 0.0
    idf = bm25_idf(document_frequencies(segments, terms, hidden), shown)
    bm25 = Bm25Weights.fitted(segments, doc_len, avg_len, idf, k1, b, weight_dtype(snapshot))
    if identity:
        local = rows  # position = row: one array for both (8 MB at a million)
    else:
        local = np.full(len(snapshot), -1, dtype=np.int64)
        local[rows] = np.arange(len(rows))
    url_rank = snapshot.url_order.ranks(rows)
    vectors = snapshot.vectors if every else snapshot.vectors[rows]
    signals = snapshot.signals if every else snapshot.signals.take(rows)
    return Pool(
        snapshot=snapshot,
        rows=rows,
        vectors=vectors,
        bm25=bm25,
        signals=signals,
        repos=snapshot.records.repos(None if every else rows),
        url_rank=url_rank,
        local=local,
        centre=pool_centre(vectors, hidden) if shown else None,
        labelled=_labelled(signals, hidden),
        hidden=hidden,
    )


def document_frequencies(
    segments: Sequence[sparse.csr_matrix], terms: int, hidden: np.ndarray
) -> np.ndarray:
    """How many documents of the segments (consecutive, term-major) hold each term, the `hidden`
    ones left out: those are found by a pass over the postings, a block at a time."""
    held = np.zeros(terms, dtype=np.int64)
    first = 0
    for counts_t in segments:
        held[: counts_t.shape[0]] += np.diff(counts_t.indptr)
        mine = np.zeros(counts_t.shape[1], dtype=bool)
        mine[hidden[(hidden >= first) & (hidden < first + counts_t.shape[1])] - first] = True
        for low in range(0, counts_t.nnz if len(hidden) else 0, WEIGHT_BLOCK):
            high = min(low + WEIGHT_BLOCK, counts_t.nnz)
            entries = low + np.flatnonzero(mine[counts_t.indices[low:high]])
            term = np.searchsorted(counts_t.indptr, entries, side="right") - 1
            held -= np.bincount(term, minlength=terms)
        first += counts_t.shape[1]
    return held


def _labelled(signals: Signals, hidden: np.ndarray) -> np.ndarray:
    labelled = (signals.label > 0) | (signals.hard > 0)
    labelled[hidden] = False
    return np.flatnonzero(labelled)


def snapshot_of(
    issues: Sequence[Issue],
    vectors: np.ndarray,
    labels: Labels,
    lexicon: Lexicon,
    niches_of: NichesOf = lambda _repo: (),
) -> Snapshot:
    """A snapshot of issues whose vectors are at hand, row-aligned (benchmarks, tests)."""
    matrix = np.array(vectors, dtype=np.float32) if len(issues) else np.zeros((0, 0), np.float32)
    return build_snapshot(
        issues,
        [text_hash(issue.embedding_text()) for issue in issues],
        (matrix, np.ones(len(issues), dtype=bool)),
        labels,
        niches_of,
        lexicon,
    )


def restated(
    old: Snapshot, changed: Sequence[Issue], labels: Labels, niches_of: NichesOf, lexicon: Lexicon
) -> Snapshot:
    """`old` with issues whose text is unchanged (state, labels aside from text, comments,
    assignees, activity) restated: their signals are recomputed, their terms and vectors kept.
    O(n) copies and no per-issue work beyond the changed ones."""
    rows = old.rows_of([i.url for i in changed])
    fresh = issue_signals(changed, labels, lexicon)
    arrays = {}
    for f in fields(Signals):
        values = getattr(old.signals, f.name).copy()
        values[rows] = getattr(fresh, f.name)
        arrays[f.name] = values
    niches = list(old.niches)
    for row, issue in zip(rows.tolist(), changed, strict=True):
        niches[row] = frozenset(n.lower() for n in issue.niches or niches_of(issue.repo))
    records = old.records.replaced(rows, IssueRecords.of(changed, lexicon.shared))
    return replace(old, records=records, niches=niches, signals=Signals(**arrays), shown={})


def restated_pool(pool: Pool, snapshot: Snapshot) -> Pool:
    """`pool` over a restated snapshot (same rows, texts and vectors): only its signals change."""
    every = len(pool.rows) == len(snapshot)
    signals = snapshot.signals if every else snapshot.signals.take(pool.rows)
    labelled = _labelled(signals, pool.hidden)
    return replace(pool, snapshot=snapshot, signals=signals, labelled=labelled)
