"""The candidate stage: past a pool size, the exact scorer ranks each learner's candidates, not
every issue.

The dense term reads every issue's vector once a query: 1.5 GB at a million issues, over 150 ms
on one core here. Above `settings.candidates_above` issues a learner's candidates are
1. the issues of the clusters nearest their vector (an inverted file: spherical k-means on the
   pool's centred vectors, built once per pool off the request path), PROBED issues or so;
2. every issue whose other terms alone (BM25, labels, freshness, language, task, ramp: summed over
   the whole pool from sparse postings and per-issue arrays, no product) would reach the probe's
   DEPTH x top_k-th best score with a dense term as high as the best in the farthest probed
   cluster (the LIFTED strongest of them when more);
3. the issue with the best BM25, so that the lexical term is scaled as over the whole pool.
score.rank_batch then ranks them as a pool of their own that keeps the whole pool's BM25 weights,
centre and URL order: whenever the candidates hold the exact list and every issue scoring above
its last, the list is the exact one (tests/matcher/test_candidates.py). What it can miss: an
issue outside the probed clusters whose dense term beats the farthest probed cluster's best (and
the hard-label rule and feedback look at the candidates' beginner issues and vectors only).
At or below the threshold nothing here runs: the pool is ranked exactly, as before.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy import sparse

from matcher.catalog import Labels
from matcher.lexical import phrase_groups
from matcher.models import Feedback, Level, Match
from matcher.ranking import score
from matcher.ranking.pool import Lexicon, Pool
from matcher.ranking.terms import (
    Centre,
    Query,
    batch_terms,
    centred_similarity,
    combine_batch,
    products,
    query_terms,
)
from matcher.ranking.vectors import widened, width
from matcher.settings import RankingSettings

CLUSTER_SIZE = 1_000  # issues per cluster of the quantiser, about
PROBED = 6_000  # issues a learner's probe reads: the nearest clusters until this many
LIFTED = 6_000  # at most this many issues outside the probe are lifted by their other terms
DEPTH = 3  # x top_k: the probe's score this far down sets the bar for every other issue
TRAIN_PER_CLUSTER = 32  # k-means is fitted on a sample of this many issues per cluster
ITERATIONS = 8
BLOCK = 4_096  # issues assigned at a time: 16 MB of products with the 1,000 clusters of a million


def applies(pool: Pool, settings: RankingSettings) -> bool:
    """Whether `pool` is ranked through the candidate stage (above settings.candidates_above)."""
    above = settings.candidates_above
    return above is not None and pool.showable > above


@dataclass(frozen=True, eq=False)
class Quantiser:
    """The pool's issues grouped by their nearest centroid, in the pool's centred space."""

    centroids: np.ndarray  # (clusters, dim) float32 unit vectors
    nearest: np.ndarray  # int32: each pool position's cluster
    order: np.ndarray  # int32 pool positions, cluster by cluster
    starts: np.ndarray  # int64 (clusters + 1): where each cluster's positions begin in `order`
    vectors: np.ndarray  # the pool's vectors it grouped (a restated pool keeps them: reused)

    def probe(self, direction: np.ndarray, wanted: int) -> tuple[np.ndarray, int]:
        """Positions of the clusters nearest `direction` until `wanted` issues, nearest first,
        and how many of them (at the end) the farthest probed cluster holds."""
        near = np.argsort(-(self.centroids @ direction.astype(np.float32)), kind="stable")
        sizes = np.diff(self.starts)[near]
        count = min(int(np.searchsorted(np.cumsum(sizes), wanted)) + 1, len(near))
        parts = [self.order[self.starts[c] : self.starts[c + 1]] for c in near[:count].tolist()]
        return np.concatenate(parts).astype(np.int64), len(parts[-1])


_KEPT: weakref.WeakKeyDictionary[Pool, Quantiser] = weakref.WeakKeyDictionary()
_COLUMNS: weakref.WeakKeyDictionary[Pool, PoolColumns] = weakref.WeakKeyDictionary()
_KEPT_LOCK = threading.Lock()


def quantiser(pool: Pool) -> Quantiser:
    """The pool's quantiser, kept with the pool: the index prepares its unfiltered pool's before
    a request can see it; a focus pool above the threshold builds its own here, on first use."""
    with _KEPT_LOCK:
        found = _KEPT.get(pool)
    return found if found is not None else _keep(pool, grouped(pool, train(pool)))


def prepare(
    pool: Pool,
    settings: RankingSettings,
    previous: Pool | None = None,
    carried: np.ndarray | None = None,
) -> None:
    """Build the quantiser of a pool above the threshold before anyone ranks with it (the index
    calls this on its refresh thread): `previous`'s when the vectors are the same (a restated
    pool); else `previous`'s centroids, keeping the clusters of the issues it grouped already
    (the first ones when issues were appended in place, see extends; else those `carried` names:
    each position's position in `previous`, -1 for a new issue) and grouping the rest (every
    issue when nothing links the two pools); else centroids trained anew."""
    if not applies(pool, settings):
        return
    with _KEPT_LOCK:
        old = _KEPT.get(previous) if previous is not None else None
    if old is not None and old.vectors is pool.vectors:
        _keep(pool, old)
    elif old is not None and extends(pool.vectors, old.vectors):
        _keep(pool, grouped(pool, old.centroids, old.nearest))
    elif old is not None and old.centroids.shape[1] == width(pool.vectors):
        known = None
        if carried is not None and len(carried) == len(pool):
            known = np.where(carried >= 0, old.nearest[np.maximum(carried, 0)], -1)
        _keep(pool, grouped(pool, old.centroids, known))
    else:
        _keep(pool, grouped(pool, train(pool)))


def extends(vectors: np.ndarray, older: np.ndarray) -> bool:
    """Whether `vectors` are `older`'s rows, in place, and more after them: a refresh that only
    added issues appended their vectors into the same buffer (pool.Room), so every older
    position holds the same issue."""
    return (
        len(vectors) > len(older)
        and vectors.dtype == older.dtype
        and width(vectors) == width(older)
        and vectors.strides == older.strides
        and vectors.ctypes.data == older.ctypes.data
    )


def _keep(pool: Pool, found: Quantiser) -> Quantiser:
    with _KEPT_LOCK:
        _KEPT[pool] = found
    return found


def train(pool: Pool, seed: int = 0) -> np.ndarray:
    """Spherical k-means centroids (about CLUSTER_SIZE issues each) of a sample of the pool's
    centred, normalised vectors: the direction the dense term measures from."""
    rng = np.random.default_rng(seed)
    shown = np.delete(np.arange(len(pool)), pool.hidden)  # Pool.hidden: no part of the centre
    clusters = max(1, len(shown) // CLUSTER_SIZE)
    picked = rng.choice(len(shown), min(len(shown), clusters * TRAIN_PER_CLUSTER), False)
    sample = np.sort(shown[picked])
    units = _centred_units(pool, sample)
    centroids = units[rng.choice(len(units), clusters, replace=False)]
    for _ in range(ITERATIONS):
        nearest = np.concatenate(
            [
                np.argmax(units[s : s + BLOCK] @ centroids.T, axis=1)
                for s in range(0, len(units), BLOCK)
            ]
        )
        members = sparse.csr_matrix(
            (np.ones(len(units), np.float32), (nearest, np.arange(len(units)))),
            shape=(clusters, len(units)),
        )
        sums = np.asarray(members @ units)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        centroids = np.where(norms > 0, sums / np.maximum(norms, 1e-12), centroids)
    return centroids.astype(np.float32)


def _centred_units(pool: Pool, positions: np.ndarray) -> np.ndarray:
    """(vectors - the pool's mean) / their norm at `positions`, float32 (computed in float64 a
    block of rows at a time: no float64 copy of the whole sample)."""
    centre = pool.centre
    assert centre is not None
    units = np.empty((len(positions), width(pool.vectors)), dtype=np.float32)
    for start in range(0, len(positions), BLOCK):
        at = positions[start : start + BLOCK]
        moved = widened(pool.vectors[at]).astype(np.float64) - centre.mean
        units[start : start + BLOCK] = moved / centre.norms[at, None]
    return units


def grouped(pool: Pool, centroids: np.ndarray, known: np.ndarray | None = None) -> Quantiser:
    """Every issue of the pool in the cluster of its nearest centroid (cosine after centring:
    the norm of an issue's centred vector changes no argmax, so it is left out); `known`: the
    clusters of the first len(known) positions, kept where not -1 (only the others are grouped;
    a kept cluster was chosen from an earlier pool's centre, which moves little)."""
    centre = pool.centre
    assert centre is not None
    offsets = (centre.mean @ centroids.T.astype(np.float64)).astype(np.float32)
    nearest = np.full(len(pool), -1, dtype=np.int32)
    if known is not None:
        nearest[: len(known)] = known
    todo = np.flatnonzero(nearest < 0)
    for start in range(0, len(todo), BLOCK):
        at = todo[start : start + BLOCK]
        rows = (
            pool.vectors[at[0] : at[-1] + 1] if at[-1] - at[0] + 1 == len(at) else pool.vectors[at]
        )
        block = widened(rows) @ centroids.T
        block -= offsets
        nearest[at] = np.argmax(block, axis=1)
    order = np.argsort(nearest, kind="stable").astype(np.int32)
    starts = np.concatenate([[0], np.cumsum(np.bincount(nearest, minlength=len(centroids)))])
    return Quantiser(centroids, nearest, order, starts.astype(np.int64), pool.vectors)


@dataclass(frozen=True)
class Candidates:
    """One learner's candidates: pool positions and their vectors (gathered once)."""

    positions: np.ndarray
    vectors: np.ndarray


def candidates(
    pool: Pool,
    query: Query,
    *,
    settings: RankingSettings,
    now: datetime,
    lexicon: Lexicon,
    level: Level | None,
    top_k: int,
) -> Candidates:
    """The probed clusters' issues, every issue its other terms could lift above their bar, and
    the best BM25 issue (see the module's docstring)."""
    others, lexical = other_terms(
        pool, query, settings=settings, now=now, lexicon=lexicon, level=level
    )
    probed, tail = quantiser(pool).probe(direction(pool, query, settings), PROBED)
    farthest = np.zeros(len(probed), dtype=bool)
    farthest[len(probed) - tail :] = True
    order = np.argsort(probed)  # rows read in memory order: np.take, 2-4x faster than probed's
    probed, farthest = probed[order], farthest[order]
    vectors = gathered(pool.vectors, probed)
    dense = dense_at(pool, probed, vectors, query, settings)
    reached = settings.dense * dense + others[probed]
    hidden = pool_columns(pool).hidden  # Pool.hidden: never a candidate, nor part of the bar
    shown = ~hidden[probed]
    reached[~shown] = -np.inf
    if not settings.include_taken:
        reached[pool.signals.taken[probed]] = -np.inf
    depth = min(len(reached), DEPTH * top_k)
    bar = np.partition(reached, len(reached) - depth)[len(reached) - depth]
    reach = settings.dense * dense[farthest].max()
    inside = hidden.copy()  # not to be lifted: probed already, or hidden
    inside[probed] = True
    lifted = strongest(np.flatnonzero((others + reach >= bar) & ~inside), others, LIFTED)
    best = int(np.argmax(lexical))  # always a candidate: BM25 is scaled by its score
    if not inside[best] and best not in lifted:
        lifted = np.append(lifted, best)
    return Candidates(
        np.concatenate([probed[shown], lifted]),
        np.concatenate([vectors[shown], gathered(pool.vectors, lifted)]),
    )


def gathered(vectors: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The rows at `positions` as float32: a pool above the threshold keeps its vectors compact
    (matcher.ranking.vectors), and only its candidates' rows are widened."""
    return widened(np.take(vectors, positions, axis=0))


def strongest(positions: np.ndarray, others: np.ndarray, most: int) -> np.ndarray:
    """The `most` of `positions` whose other terms are highest (all of them when fewer): a learner
    whose profile matches little by its words would otherwise lift tens of thousands of issues
    whose signals alone tie near the bar."""
    if len(positions) <= most:
        return positions
    cut = len(positions) - most
    return positions[np.argpartition(others[positions], cut)[cut:]]


def other_terms(
    pool: Pool,
    query: Query,
    *,
    settings: RankingSettings,
    now: datetime,
    lexicon: Lexicon,
    level: Level | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every term of TERMS but the dense one, weighted and summed over the whole pool (sparse
    BM25 postings and per-issue arrays: no pass over the vectors), and the BM25 term alone.

    The terms no learner changes are taken at `now` rounded down to the hour, so they are
    computed once an hour per pool, not once a request (each brings its own `now`: at a million
    issues they cost tens of ms). They only choose candidates: the candidates are then scored at
    `now` itself.
    """
    hour = now.replace(minute=0, second=0, microsecond=0)
    terms = batch_terms(
        pool,
        [query],
        settings=settings,
        now=hour,
        lexicon=lexicon,
        levels=[level],
        with_dense=False,
    )
    return combine_batch(terms, settings)[0], terms.lexical[0]


def direction(pool: Pool, query: Query, settings: RankingSettings) -> np.ndarray:
    """The learner's vector in the quantiser's space: moved by the pool's mean (as the dense
    term moves it when settings.centre) and normalised."""
    centre = pool.centre
    assert centre is not None
    moved = query.vector.astype(np.float64) - (centre.mean if settings.centre else 0.0)
    return moved / max(float(np.linalg.norm(moved)), 1e-12)


def dense_at(
    pool: Pool, positions: np.ndarray, vectors: np.ndarray, query: Query, settings: RankingSettings
) -> np.ndarray:
    """The dense term at `positions` (their `vectors`), as terms.dense_scores gives it there."""
    centre = pool.centre
    if settings.centre and centre is not None:
        at = Centre(centre.mean, centre.norms[positions])
        return centred_similarity(vectors, at, query.vector[None, :])[0]
    return products(query.vector[None, :], vectors)[0].astype(np.float64)


def candidate_pool(pool: Pool, found: Candidates, term_ids: np.ndarray) -> Pool:
    """The candidates as a pool of their own that ranks them as the whole pool does: its BM25
    weights (the rows `term_ids` only), centre, URL order and labelled issues."""
    positions = found.positions
    rows = pool.rows[positions]
    local = np.full(len(pool.snapshot), -1, dtype=np.int32)  # half the bytes to fill of int64
    local[rows] = np.arange(len(rows))
    columns = pool_columns(pool)
    centre = pool.centre
    assert centre is not None
    return Pool(
        snapshot=pool.snapshot,
        rows=rows,
        vectors=found.vectors,
        bm25=pool.bm25.at(term_ids, positions),
        signals=pool.signals.take(positions),
        repos=columns.repos.take(positions).tolist(),
        url_rank=pool.url_rank[positions],
        local=local,
        centre=Centre(centre.mean, centre.norms[positions]),
        labelled=np.flatnonzero(columns.labelled[positions]),
    )


@dataclass(frozen=True)
class PoolColumns:
    """What every learner's candidate pool gathers from the whole pool, kept with it (not among
    terms.kept's few entries, which each request's own `now` turns over)."""

    repos: np.ndarray  # object: pool.repos, gathered rather than looped over per learner
    labelled: np.ndarray  # bool: pool.labelled as a mask
    hidden: np.ndarray  # bool: pool.hidden as a mask


def pool_columns(pool: Pool) -> PoolColumns:
    """The pool's PoolColumns (kept with the pool)."""
    with _KEPT_LOCK:
        found = _COLUMNS.get(pool)
    if found is None:
        labelled = np.zeros(len(pool), dtype=bool)
        labelled[pool.labelled] = True
        hidden = np.zeros(len(pool), dtype=bool)
        hidden[pool.hidden] = True
        found = PoolColumns(np.array(pool.repos, dtype=object), labelled, hidden)
        with _KEPT_LOCK:
            _COLUMNS[pool] = found
    return found


def term_ids(pool: Pool, query: Query, lexicon: Lexicon, settings: RankingSettings) -> np.ndarray:
    """The vocabulary ids BM25 reads for this query: its terms and its phrases' words."""
    columns = pool.bm25.shape[0]
    vocabulary = lexicon.vocabulary
    asked, _ = query_terms(query, vocabulary, columns, settings.implied_terms)
    words = [vocabulary.get(w, columns) for group in phrase_groups(query.phrases) for w in group]
    return np.union1d(asked, [w for w in words if w < columns]).astype(np.int64)


def rank_batch(
    pool: Pool,
    queries: Sequence[Query],
    *,
    settings: RankingSettings,
    labels: Labels,
    now: datetime,
    lexicon: Lexicon,
    top_k: int,
    feedback: Sequence[Feedback | None] | None = None,
    levels: Sequence[Level | None] | None = None,
    opinions: Sequence[score.Opinions] | None = None,
) -> list[list[Match]]:
    """score.rank_batch, through the candidate stage when the pool is above the threshold (each
    learner then ranks their own candidates); at or below it, score.rank_batch itself."""
    if not applies(pool, settings):
        return score.rank_batch(
            pool,
            queries,
            settings=settings,
            labels=labels,
            now=now,
            lexicon=lexicon,
            top_k=top_k,
            feedback=feedback,
            levels=levels,
            opinions=opinions,
        )
    ranked = []
    for j, query in enumerate(queries):
        level = levels[j] if levels else None
        found = candidates(
            pool, query, settings=settings, now=now, lexicon=lexicon, level=level, top_k=top_k
        )
        among = candidate_pool(pool, found, term_ids(pool, query, lexicon, settings))
        ranked += score.rank_batch(
            among,
            [query],
            settings=settings,
            labels=labels,
            now=now,
            lexicon=lexicon,
            top_k=top_k,
            feedback=[feedback[j]] if feedback else None,
            levels=[level],
            opinions=[opinions[j]] if opinions else None,
        )
    return ranked
