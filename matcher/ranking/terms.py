"""The score's terms: each one a vectorised function of a pool and a batch of learners.

A learner alone is a batch of one. Every term returns a (learners x pool) matrix, or a (1 x pool)
row when it does not depend on the learner; `combine` weighs them with RankingSettings through
TERMS, the one table that says which setting weighs which term and with which sign. A new term is
one function here and one line in TERMS.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from matcher.lexical import own_words, phrase_groups
from matcher.models import Issue, Level
from matcher.ranking.vectors import is_compact, wide_blocks, width
from matcher.settings import RankingSettings
from matcher.signals import kind_step, kinds_asked, neglect, ramp_fits, task_fit

if TYPE_CHECKING:
    from matcher.ranking.pool import Lexicon, Pool

# Task types a person recognises, detected from labels and title.
TASK_TYPES: tuple[tuple[str, re.Pattern], ...] = tuple(
    (name, re.compile(pattern, re.I))
    for name, pattern in (
        ("docs task", r"\b(docs?|documentation|docstrings?|readme|typo|tutorials?|guide)\b"),
        ("tests task", r"\b(tests?|testing|unit ?tests?|coverage|pytest)\b"),
        ("bug fix", r"\b(bug|fix|crash|error|fails?|broken|incorrect|wrong)\b"),
        ("example", r"\b(examples?|notebooks?|demo)\b"),
        ("CI / tooling", r"\b(ci|workflows?|github actions|pre-commit|lint(ing|er)?|packaging)\b"),
        ("performance", r"\b(performance|speed ?up|faster|slow|memory|optimi[sz]e)\b"),
        ("typing", r"\b(type hints?|typing|mypy|annotations?)\b"),
        ("feature", r"\b(feature|enhancement|support|implement|add)\b"),
    )
)
KINDS: tuple[str | None, ...] = (*(name for name, _ in TASK_TYPES), None)  # kind id -> kind
KIND_ID = {kind: k for k, kind in enumerate(KINDS)}
KIND_STEP = np.array([kind_step(kind) for kind in KINDS], dtype=np.int8)  # kind id -> ramp step

# (term, RankingSettings field that weighs it, sign): the score is the signed weighted sum, in
# this order. The hard-label rule and feedback act after the sum (see matcher.ranking.score).
TERMS: tuple[tuple[str, str, int], ...] = (
    ("dense", "dense", +1),
    ("lexical", "lexical", +1),
    ("label", "beginner_label", +1),
    ("fresh", "freshness", +1),
    ("taken", "competition", -1),
    ("hard", "hard_label", -1),
    ("language", "language", +1),
    ("task", "task_fit", +1),
    ("intent", "intent", +1),
    ("welcome", "welcoming", +1),
    ("neglect", "neglect", -1),
    ("ramp", "ramp", +1),
)
# A phrase counts whole in an issue holding all its words, or this many of a longer one (a niche
# written as a sentence: "deep learning models that run fast on edge devices").
WHOLE_PHRASE = 4
CENTRE_PRIOR = 20  # issues: how far a small pool's mean is trusted (see pool_centre)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Query:
    """A learner's profile prepared for ranking: its vector and expanded lexical terms."""

    vector: np.ndarray
    # a term may repeat: the profile implies it more than once, so it weighs more
    terms: tuple[str, ...]
    # programming languages the learner writes; empty = not judged
    languages: frozenset[str] = frozenset()
    intent: frozenset[str] = frozenset()  # kinds of work (TASK_TYPES) the learner's niche names
    phrases: tuple[str, ...] = ()  # the profile's phrases as written, to name matches in reasons


@dataclass(frozen=True)
class Centre:
    """The pool's mean issue vector and each issue's distance from it (see dense_scores)."""

    mean: np.ndarray  # float64
    norms: np.ndarray  # float64, |vector - mean| per issue


@lru_cache(maxsize=65536)  # top lists repeat the same issues for many learners
def task_type(issue: Issue) -> str | None:
    """The kind of work, from labels first, then the title."""
    return kind_of_text(" ".join(issue.labels)) or kind_of_text(issue.title)


def kind_of_text(text: str) -> str | None:
    """The first kind of work (TASK_TYPES) `text` names."""
    return next((name for name, pattern in TASK_TYPES if pattern.search(text)), None)


def asked_kinds(query: Query) -> frozenset[str]:
    """The kinds of work (TASK_TYPES) the learner's own query words ask for."""
    return _kinds_of_words(query.terms)


@lru_cache(maxsize=4096)  # a learner's query is ranked and explained many times
def _kinds_of_words(terms: tuple[str, ...]) -> frozenset[str]:
    return kinds_asked(" ".join(terms), TASK_TYPES)


def micros(when: datetime) -> int:
    """Exact microseconds since the epoch (what timedelta.total_seconds() is computed from)."""
    return (when - _EPOCH) // _MICROSECOND


def pool_centre(vectors: np.ndarray, hidden: np.ndarray | None = None) -> Centre:
    """The mean of the pool's vectors (summed in float64: the row order moves it by ~1e-16),
    the rows at `hidden` left out (a pool's issues no list shows: Pool.hidden).

    A handful of issues has no meaningful centre: the mean shrinks towards zero (no centring)
    by n / (n + CENTRE_PRIOR), so a focus pool of three issues is ranked almost as raw cosine.
    Compact vectors (a pool above the candidate threshold: matcher.ranking.vectors) are read a
    block at a time, widened to float32: no float32 copy of the whole pool.
    """
    n = len(vectors)
    shown = np.ones(n, dtype=bool)
    if hidden is not None:
        shown[hidden] = False
    if is_compact(vectors):
        total, squared = np.zeros(width(vectors)), np.empty(n)
        for start, block in wide_blocks(vectors):
            end = start + len(block)
            total += np.add.reduce(block, axis=0, dtype=np.float64, where=shown[start:end, None])
            squared[start:end] = np.einsum("ij,ij->i", block, block, dtype=np.float64)
    else:
        # where=: the rows left out are skipped in place, the rest summed in the same order
        every = hidden is None or not len(hidden)
        total = (
            vectors.sum(axis=0, dtype=np.float64)
            if every
            else np.add.reduce(vectors, axis=0, dtype=np.float64, where=shown[:, None])
        )
        squared = np.einsum("ij,ij->i", vectors, vectors, dtype=np.float64)
    mean = total / (int(shown.sum()) + CENTRE_PRIOR)
    # each row's product with the mean (float32 rows: BLAS's matrix-vector product, as before)
    along = products(mean.astype(np.float32), vectors)[0].astype(np.float64)
    # sqrt(max(squared - 2 * along + mean @ mean, 1e-12)), its steps in place
    along *= 2
    squared -= along
    squared += mean @ mean
    np.maximum(squared, 1e-12, out=squared)
    return Centre(mean, np.sqrt(squared, out=squared))


def products(queries: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """queries @ vectors.T in float32 (learners x issues); one learner takes BLAS's
    matrix-vector product, which streams the pool's vectors once (a 1-row gemm was 1.5x slower).
    Compact vectors are widened a block at a time (wide_blocks)."""
    if is_compact(vectors):
        queries = np.atleast_2d(queries).astype(np.float32, copy=False)
        out = np.empty((len(queries), len(vectors)), dtype=np.float32)
        for start, block in wide_blocks(vectors):
            out[:, start : start + len(block)] = products(queries, block)
        return out
    queries = np.atleast_2d(queries).astype(vectors.dtype, copy=False)
    if len(queries) == 1:
        return (vectors @ queries[0])[None, :]
    return queries @ vectors.T


def centred_similarity(vectors: np.ndarray, centre: Centre, queries: np.ndarray) -> np.ndarray:
    """Cosine between issues and learners (learners x issues) after both move by the pool's mean.

    Sentence embeddings share a large common direction (every issue here is about ML software),
    so raw cosines differ little and favour generic issues; measured from the pool's centre,
    what sets an issue and a learner apart dominates. Unsupervised: the pool alone decides it.
    """
    moved = _moved(queries, centre)
    return _centred(products(moved.astype(np.float32), vectors), moved, centre)


def _moved(queries: np.ndarray, centre: Centre) -> np.ndarray:
    moved = np.atleast_2d(queries).astype(np.float64) - centre.mean
    moved /= np.maximum(np.linalg.norm(moved, axis=1, keepdims=True), 1e-12)
    return moved


def _centred(product: np.ndarray, moved: np.ndarray, centre: Centre) -> np.ndarray:
    # the float32 product widened as it is subtracted: one float64 pass, not a copy and a pass
    similarity = np.subtract(product, (moved @ centre.mean)[:, None], dtype=np.float64)
    similarity /= centre.norms[None, :]
    return similarity


def dense_scores(pool: Pool, queries: Sequence[Query], settings: RankingSettings) -> np.ndarray:
    """The dense term: centred (settings.centre) or raw cosine, learners x pool."""
    return dense_and_opinions(pool, queries, settings, None)[0]


def dense_and_opinions(
    pool: Pool, queries: Sequence[Query], settings: RankingSettings, opinions: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """dense_scores, and the raw float32 products of `opinions` (vectors of issues learners liked
    or dismissed: feedback_shifts) with the pool, in one pass over the pool's vectors."""
    matrix = np.stack([q.vector for q in queries]).astype(np.float32)
    centred = settings.centre and pool.centre is not None
    if centred:
        assert pool.centre is not None
        moved = _moved(matrix, pool.centre)
        matrix = moved.astype(np.float32)
    extra = 0 if opinions is None else len(opinions)
    if extra:
        assert opinions is not None
        matrix = np.vstack([matrix, opinions.astype(np.float32)])
    product = products(matrix, pool.vectors)
    own, theirs = product[: len(queries)], (product[len(queries) :] if extra else None)
    if centred:
        assert pool.centre is not None
        return _centred(own, moved, pool.centre), theirs
    return own.astype(np.float64), theirs


def query_terms(
    query: Query, vocabulary: dict[str, int], columns: int, implied: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """A learner's terms the pool's vocabulary holds (ids ascending) and their weights: a term
    given n times weighs sqrt(n) (the profile dwells on it), times `implied` for a term the
    profile does not say itself (a synonym, initials)."""
    # a term the vocabulary learnt after this pool was built is in none of its issues
    counted = Counter(t for t in query.terms if vocabulary.get(t, columns) < columns)
    said = own_words(query.phrases) if query.phrases else None
    weighed = sorted(
        (vocabulary[t], np.sqrt(float(n)) * (1.0 if said is None or t in said else implied))
        for t, n in counted.items()
    )
    ids = np.fromiter((term for term, _ in weighed), dtype=np.int64, count=len(weighed))
    weights = np.fromiter((weight for _, weight in weighed), dtype=np.float64, count=len(weighed))
    return ids, weights


def lexical_scores(
    pool: Pool, queries: Sequence[Query], lexicon: Lexicon, settings: RankingSettings | None = None
) -> np.ndarray:
    """BM25 of every pooled issue for every query (learners x pool), each row scaled by its best.

    A word of one of the profile's phrases (lexical.phrase_groups) found in an issue without the
    rest of its phrase counts settings.phrase_part as much; a term the profile only implies,
    settings.implied_terms as much.
    """
    settings = settings or RankingSettings()
    bm25 = pool.bm25
    scores = np.zeros((len(queries), bm25.shape[1]))
    for j, query in enumerate(queries):
        terms, weights = query_terms(
            query, lexicon.vocabulary, bm25.shape[0], settings.implied_terms
        )
        if not len(terms):
            continue
        # each learner's own terms' postings: a product over the batch's every term would do
        # ten times the work and give the same sums (the terms are added in id order either way)
        # in the weights' own type (float32 above the candidate threshold): no widened copy
        scores[j] = bm25.dot(terms, weights.astype(bm25.dtype, copy=False))
        if settings.phrase_part < 1.0:
            # each word found without the rest of its phrase: its BM25 there, taken back in part
            taken_back = 1.0 - settings.phrase_part
            for where, partial, weight in phrase_parts(pool, query, terms, weights, lexicon):
                scores[j, where] -= taken_back * (partial * weight)
    scores[:, pool.hidden] = 0.0  # scaled by the best of the issues a list may show
    top = scores.max(axis=1, initial=0.0)  # BM25 is never negative: a row topping at 0 is all 0
    scores /= np.where(top > 0, top, 1.0)[:, None]
    return scores


def phrase_parts(
    pool: Pool, query: Query, terms: np.ndarray, weights: np.ndarray, lexicon: Lexicon
) -> Iterator[tuple[np.ndarray, np.ndarray, float]]:
    """The learner's words of their phrases among `terms` (query_terms), each as the issues
    where the rest of the phrase is missing (a word in several of their phrases is whole when any
    of them is), its BM25 weights there and its query weight; nothing for a learner who wrote no
    phrase of several words. The pool keeps each word's row: profiles repeat."""
    vocabulary, columns = lexicon.vocabulary, pool.bm25.shape[0]
    groups = [
        frozenset(vocabulary.get(word, columns) for word in group)
        for group in phrase_groups(query.phrases)
    ]
    if not groups:
        return
    for term, weight in zip(terms.tolist(), weights.tolist(), strict=True):
        its = frozenset(g for g in groups if term in g)
        if its:
            where, partial = _phrase_row(pool, term, its)
            yield where, partial, weight


def warm_rows(pool: Pool, previous: Pool) -> None:
    """The BM25 rows and phrase rows `previous` computed for the learners who asked, computed
    for `pool` (its successor) too: the first request after a refresh finds them (vocabulary
    ids are the lexicon's, the same in both)."""
    columns = pool.bm25.shape[0]
    for term in previous.bm25.kept.keys():
        if term < columns:
            pool.bm25.row(term)
    for term, groups in previous.phrase_rows.keys():
        if term < columns:
            _phrase_row(pool, term, groups)


def _phrase_row(
    pool: Pool, term: int, groups: frozenset[frozenset[int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Row `term` of the pool's BM25 weights where none of `groups` is whole: (issues, weights)."""
    known = pool.phrase_rows.get((term, groups))
    if known is not None:
        return known
    bm25 = pool.bm25
    held, weights = bm25.postings(term), bm25.row(term)
    whole = np.zeros(0, dtype=held.dtype)
    for group in groups:
        holders = [
            bm25.postings(w)
            for w in group
            if w < bm25.shape[0]  # else a word no issue here holds
        ]
        need = min(len(group), WHOLE_PHRASE)
        if len(holders) < need:
            continue
        issues, words = np.unique(np.concatenate(holders), return_counts=True)
        whole = np.union1d(whole, issues[words >= need])
    keep = ~np.isin(held, whole, assume_unique=True)
    partial = held[keep], weights[keep]
    pool.phrase_rows.keep((term, groups), partial, len(partial[0]))
    return partial


def language_table(queries: Sequence[Query], languages: dict[str, int]) -> np.ndarray:
    """(learners x languages + 1): +1 for a language the learner writes, -1 for another; the last
    column is "the issue says nothing": 0 (a profile without languages is 0 throughout)."""
    table = np.full((len(queries), len(languages) + 1), -1.0)
    table[:, -1] = 0.0
    for j, query in enumerate(queries):
        if not query.languages:
            table[j] = 0.0
        for name in query.languages:
            if name in languages:
                table[j, languages[name]] = 1.0
    return table


def language_ids(pool: Pool, languages: dict[str, int]) -> np.ndarray:
    """Each pooled issue's column in language_table (the last when nothing says its language)."""
    language = pool.signals.language
    return kept(
        pool,
        ("language ids", len(languages)),
        lambda: _frozen(np.where(language >= 0, language, len(languages))),
    )


def _frozen(values: np.ndarray) -> np.ndarray:
    """`values`, read-only: kept with a pool and shared by every batch."""
    values.setflags(write=False)
    return values


def task_table(queries: Sequence[Query]) -> np.ndarray:
    """signals.task_fit per query and kind of work (learners x KINDS)."""
    asked = [asked_kinds(q) for q in queries]
    return np.array([[task_fit(kind, a) for kind in KINDS] for a in asked], dtype=float)


def intent_fits(kinds: Sequence[str | None], intent: frozenset[str]) -> np.ndarray:
    """1 for an issue of a kind of work the learner's niche names (docs, tests...), else 0: a
    niche like "documentation of ML libraries" asks for the kind of work as much as the topic."""
    return np.array([float(kind in intent) for kind in kinds], dtype=float)


def intent_table(queries: Sequence[Query]) -> np.ndarray:
    """intent_fits per query and kind of work (learners x KINDS)."""
    return np.stack([intent_fits(KINDS, q.intent) for q in queries])


def _days_before(now: datetime, stamps: np.ndarray) -> np.ndarray:
    """Days from each stamp to now, exact microseconds, as signals.days_between computes them."""
    seconds = (micros(now) - stamps) / 10**6
    return np.maximum(seconds / 86400, 0.0)


def freshness_scores(pool: Pool, now: datetime, half_life_days: float) -> np.ndarray:
    """1 for activity today, halving every half-life; 0.5 when the age is unknown."""
    days = _days_before(now, pool.signals.stamp)
    return np.where(pool.signals.has_stamp, 0.5 ** (days / half_life_days), 0.5)[None, :]


def neglect_scores(pool: Pool, now: datetime, settings: RankingSettings) -> np.ndarray:
    """signals.neglect over the pool: unknown activity (no updated_at) is NaN, neutral."""
    idle = np.where(pool.signals.has_active, _days_before(now, pool.signals.active), np.nan)
    waiting = np.where(pool.signals.has_waiting, _days_before(now, pool.signals.waiting), np.nan)
    return neglect(
        idle,
        waiting,
        settings.stale_after_days,
        settings.unanswered_after_days,
        pool.signals.marked_stale,
    )[None, :]


def ramp_scores(pool: Pool, levels: Sequence[Level | None]) -> np.ndarray:
    """signals.ramp_fits per learner and pooled issue for their target step; one row of zeros
    when nobody's ramp term is on."""
    if not any(level is not None and level.active for level in levels):
        return kept(pool, ("no ramp",), lambda: _frozen(np.zeros((1, len(pool)))))
    steps = KIND_STEP[pool.signals.kind]
    return np.stack(
        [
            ramp_fits(steps, pool.signals.difficulty, level.target)
            if level is not None and level.active
            else np.zeros(len(pool))
            for level in levels
        ]
    )


# Terms no learner changes: computed once per pool, minute and settings (see learner_free).
LEARNER_FREE = ("label", "fresh", "taken", "hard", "welcome", "neglect")
# Terms read from a (learners x ids) table by a per-issue id: summed into one table, one gather.
LOOKED_UP = ("language", "task", "intent")
T = TypeVar("T")
_MEMO: weakref.WeakKeyDictionary[Pool, dict[tuple, Any]] = weakref.WeakKeyDictionary()
_MEMO_LOCK = threading.Lock()
CACHE_BLOCK = 32_768  # float64 values per operand in one block of combine_batch (256 kB)
_MEMO_SIZE = 8  # entries per pool


def kept(pool: Pool, key: tuple, compute: Callable[[], T], stamp: Any = None) -> T:
    """compute(), kept with the pool under `key` (a pool never changes: nothing goes stale).

    With a `stamp` (the minute learner-free terms are taken at) the key keeps the latest stamp's
    value alone: a pool alive for hours keeps one minute's terms, not one per minute (they are
    56 MB at a million issues).
    """
    with _MEMO_LOCK:
        memo = _MEMO.setdefault(pool, {})
        found = memo.get(key)
    if found is not None and found[0] == stamp:
        return found[1]
    value = compute()  # two threads may both compute it: the same value, no harm
    with _MEMO_LOCK:
        while key not in memo and len(memo) >= _MEMO_SIZE:
            memo.pop(next(iter(memo)))
        memo[key] = (stamp, value)
    return value


def learner_free(
    pool: Pool, now: datetime, settings: RankingSettings
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The terms that do not depend on the learner (LEARNER_FREE, 1 x pool rows) and their signed
    weighted sum, computed once per pool, minute and settings rather than per batch.

    They are taken at the start of `now`'s minute: the bot's requests each bring their own `now`,
    and recomputing them per request cost a learner a fifth of its time at 50,000 issues (about
    1 ms), while a minute moves a freshness by about 4e-6 of itself (the 120-day half-life).
    """
    now = now.replace(second=0, microsecond=0)
    weights = tuple((name, sign * getattr(settings, setting)) for name, setting, sign in TERMS)
    key = (
        "learner_free",
        settings.freshness_half_life_days,
        settings.stale_after_days,
        settings.unanswered_after_days,
        weights,
    )

    def compute() -> tuple[dict[str, np.ndarray], np.ndarray]:
        rows = {
            "label": pool.signals.label[None, :],
            "fresh": freshness_scores(pool, now, settings.freshness_half_life_days),
            "taken": pool.signals.competition[None, :],
            "hard": pool.signals.hard[None, :],
            "welcome": pool.signals.welcome[None, :],
            "neglect": neglect_scores(pool, now, settings),
        }
        shared = np.zeros((1, len(pool)))
        for name, weight in weights:
            if name in rows:
                shared += weight * rows[name]
        return rows, shared

    return kept(pool, key, compute, stamp=(micros(now), now.tzinfo is None))


@dataclass(frozen=True)
class BatchTerms:
    """A batch's terms in the form they are computed in: dense and lexical (learners x pool);
    language, task and intent as (learners x ids) tables with each issue's id; ramp (learners x
    pool, or one row of zeros); the learner-free rows. `at` reads them where a list shows issues,
    `full` spells every term out (learners x pool, or 1 x pool) as term_values gives them."""

    dense: np.ndarray
    lexical: np.ndarray
    tables: dict[str, np.ndarray]  # LOOKED_UP name -> (learners x ids)
    ids: dict[str, np.ndarray]  # LOOKED_UP name (and "lookup") -> per-issue column of its table
    ramp: np.ndarray
    ramp_on: bool  # False: `ramp` is one row of zeros (nobody's ramp term is on)
    free: dict[str, np.ndarray]  # LEARNER_FREE name -> 1 x pool
    shared: np.ndarray  # the learner-free terms' signed weighted sum, 1 x pool
    opinions: np.ndarray | None = None  # float32 products of batch_terms' `opinions` and the pool

    def row(self, name: str, column: int, positions: np.ndarray | slice) -> np.ndarray:
        """Term `name` for learner `column` at pool `positions`."""
        if name in self.tables:
            return self.tables[name][column, self.ids[name][positions]]
        values = self.free[name] if name in self.free else getattr(self, name)
        return values[column if values.shape[0] > 1 else 0, positions]

    def at(self, column: int, positions: np.ndarray) -> dict[str, np.ndarray]:
        """Every term (TERMS order) for learner `column` at pool `positions`."""
        return {name: self.row(name, column, positions) for name, _, _ in TERMS}

    def full(self) -> dict[str, np.ndarray]:
        """Every term of TERMS (learners x pool, or 1 x pool)."""
        spelled = {name: self.tables[name][:, self.ids[name]] for name in LOOKED_UP}
        spelled.update(self.free, dense=self.dense, lexical=self.lexical, ramp=self.ramp)
        return {name: spelled[name] for name, _, _ in TERMS}


def batch_terms(
    pool: Pool,
    queries: Sequence[Query],
    *,
    settings: RankingSettings,
    now: datetime,
    lexicon: Lexicon,
    levels: Sequence[Level | None] | None = None,
    opinions: np.ndarray | None = None,
    with_dense: bool = True,
) -> BatchTerms:
    """Every term of TERMS for a batch of learners, as BatchTerms; `opinions` (opinion_matrix)
    are multiplied with the pool in the dense term's pass (BatchTerms.opinions). `with_dense`
    False: the dense term is zero throughout, no product (the candidate stage sums the other
    terms over a pool too large for it)."""
    languages = dict(lexicon.languages)  # a refresh may add one meanwhile
    kind = pool.signals.kind
    free, shared = learner_free(pool, now, settings)
    levels = levels or [None] * len(queries)
    dense, theirs = (
        dense_and_opinions(pool, queries, settings, opinions)
        if with_dense
        else (np.broadcast_to(0.0, (len(queries), len(pool))), None)
    )
    return BatchTerms(
        dense=dense,
        lexical=lexical_scores(pool, queries, lexicon, settings),
        tables={
            "language": language_table(queries, languages),
            "task": task_table(queries),
            "intent": intent_table(queries),
        },
        ids={
            "language": language_ids(pool, languages),
            "task": kind,
            "intent": kind,
            "lookup": kept(  # combined_lookup's: language id x KINDS + kind
                pool,
                ("lookup ids", len(languages)),
                lambda: _frozen(language_ids(pool, languages) * len(KINDS) + kind),
            ),
        },
        ramp=ramp_scores(pool, levels),
        ramp_on=any(level is not None and level.active for level in levels),
        free=free,
        shared=shared,
        opinions=theirs,
    )


def term_values(
    pool: Pool,
    queries: Sequence[Query],
    *,
    settings: RankingSettings,
    now: datetime,
    lexicon: Lexicon,
    levels: Sequence[Level | None] | None = None,
) -> dict[str, np.ndarray]:
    """Every term of TERMS for a batch of learners (learners x pool, or 1 x pool)."""
    return batch_terms(
        pool, queries, settings=settings, now=now, lexicon=lexicon, levels=levels
    ).full()


def combined_lookup(terms: BatchTerms, settings: RankingSettings) -> tuple[np.ndarray, np.ndarray]:
    """The LOOKED_UP terms' signed weighted sum as one (learners x ids) table and each issue's id
    into it: language id x KINDS + kind, so the pool is read once, not once per term."""
    kinds = len(KINDS)
    width = terms.tables["language"].shape[1]
    weight = {name: sign * getattr(settings, setting) for name, setting, sign in TERMS}
    table = np.zeros((len(terms.dense), width, kinds))
    for name in LOOKED_UP:  # TERMS order
        values = weight[name] * terms.tables[name]
        table += values[:, :, None] if name == "language" else values[:, None, :]
    return table.reshape(len(terms.dense), width * kinds), terms.ids["lookup"]


def combine_batch(terms: BatchTerms, settings: RankingSettings) -> np.ndarray:
    """combine() over BatchTerms: the same signed weighted sum in the same order, learners x pool,
    float64, in fewer passes: the learner-free sum is kept per pool, the looked-up terms are one
    gather, and the pool is taken a block of columns at a time, so every operand of a block stays
    in cache instead of each term streaming the whole batch through memory."""
    rows, width = terms.dense.shape
    score = np.empty((rows, width))
    scratch = np.empty((rows, min(width, max(256, CACHE_BLOCK // rows))))
    table, ids = combined_lookup(terms, settings)
    for start in range(0, width, scratch.shape[1]):
        cols = slice(start, start + scratch.shape[1])
        block, spare = score[:, cols], scratch[:, : block_width(start, width, scratch.shape[1])]
        np.multiply(terms.dense[:, cols], settings.dense, out=block)
        np.multiply(terms.lexical[:, cols], settings.lexical, out=spare)
        block += spare
        block += table[:, ids[cols]]
        if terms.ramp_on:
            np.multiply(terms.ramp[:, cols], settings.ramp, out=spare)
            block += spare
        block += terms.shared[:, cols]
    return score


def block_width(start: int, width: int, step: int) -> int:
    return min(step, width - start)


def combine(parts: dict[str, np.ndarray], settings: RankingSettings) -> np.ndarray:
    """The signed weighted sum of the terms (TERMS), learners x pool, float64.

    The terms that do not depend on the learner (1 x pool rows) are summed once and added to the
    learners' own in one pass; one scratch buffer serves every other term (a batch's matrices are
    tens of MB: a fresh one per term costs page faults, not arithmetic).
    """
    rows = max(values.shape[0] for values in parts.values())
    width = max(values.shape[1] for values in parts.values())
    shared = np.zeros((1, width))
    score: np.ndarray | None = None
    scratch: np.ndarray | None = None
    for name, setting, sign in TERMS:
        values, weight = parts[name], sign * getattr(settings, setting)
        if values.shape[0] == 1:
            shared += weight * values
        elif score is None:
            score = np.multiply(values, weight, dtype=np.float64)
        else:
            scratch = np.empty_like(score) if scratch is None else scratch
            np.multiply(values, weight, out=scratch)
            score += scratch
    if score is None:
        return np.repeat(shared, rows, axis=0)
    score += shared
    return score


def fit_before_labels(parts: dict[str, np.ndarray], settings: RankingSettings) -> np.ndarray:
    """How well each issue fits each learner by its text alone (the hard-label rule compares it)."""
    return settings.dense * parts["dense"] + settings.lexical * parts["lexical"]


def opinion_matrix(
    liked: Sequence[np.ndarray | None], disliked: Sequence[np.ndarray | None], dim: int
) -> np.ndarray:
    """The vectors of every issue the batch liked, then of every one it dismissed (float32)."""
    groups = [g for kind in (liked, disliked) for g in kind if g is not None and len(g)]
    return np.vstack(groups).astype(np.float32) if groups else np.zeros((0, dim), np.float32)


def feedback_shifts(
    vectors: np.ndarray,
    liked: Sequence[np.ndarray | None],
    disliked: Sequence[np.ndarray | None],
    similarity: np.ndarray | None = None,
) -> list[np.ndarray | None]:
    """Per learner and issue, a nudge: up when close to issues they liked, down when close to
    ones they dismissed (0.5 and 0.8 times the best cosine); None for a learner who said nothing.
    One product for the whole batch: `similarity`, opinion_matrix(liked, disliked) @ vectors.T,
    when the caller has it (the scorer makes it in the same pass as the dense term)."""
    shifts: list[np.ndarray | None] = [
        None if like is None and dislike is None else np.zeros(vectors.shape[0])
        for like, dislike in zip(liked, disliked, strict=True)
    ]
    if similarity is None:
        stacked = opinion_matrix(liked, disliked, width(vectors))
        similarity = products(stacked, vectors)
    # clip and max in the product's float32, widened after: the same values, less memory
    np.clip(similarity, 0, None, out=similarity)
    offset = 0
    for weight, groups in ((0.5, liked), (-0.8, disliked)):
        opinions = {j: g for j, g in enumerate(groups) if g is not None and len(g)}
        if not opinions:
            continue
        owners = list(opinions)
        sizes = np.array([len(opinions[j]) for j in owners], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        theirs = similarity[offset : offset + int(sizes.sum())]  # (their issues, pool)
        offset += int(sizes.sum())
        best = np.maximum.reduceat(theirs, starts, axis=0).astype(np.float64)
        for row, j in enumerate(owners):
            shift = shifts[j]
            assert shift is not None
            shift += weight * best[row]
    return shifts
