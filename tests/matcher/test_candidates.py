"""The candidate stage (matcher.ranking.candidates): off at and below the threshold; the pool of
candidates ranks exactly as the whole pool whenever it holds the exact list and what scores above
it; the quantiser groups every issue once and is reused by a restated pool."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from matcher.catalog import load_catalog
from matcher.engine import query_for
from matcher.models import Profile
from matcher.ranking import candidates
from matcher.ranking import pool as ranking_pool
from matcher.ranking.pool import Lexicon, build_pool, restated_pool, snapshot_of
from matcher.ranking.score import rank_batch, score_batch
from matcher.ranking.vectors import is_compact
from matcher.settings import RankingSettings, load_settings
from matcher.store.issues import issues_by_url, put_embeddings, upsert_issues
from tests.conftest import NOW, make_issue
from tests.fakes.embedder import HashingEmbedder
from tests.matcher.conftest import grid_vectors
from tests.matcher.test_index import PROFILES, pool, same_lists

LABELS = load_catalog().labels
EMBEDDER = HashingEmbedder()


def ranked_pool(size: int, seed: int):
    issues = pool(size, seed=seed)
    vectors = EMBEDDER.encode([issue.embedding_text() for issue in issues])
    lexicon = Lexicon()
    return build_pool(snapshot_of(issues, vectors, LABELS, lexicon), np.arange(size)), lexicon


def queries():
    texts = [p.query_text() for p in PROFILES]
    return [query_for(t, v) for t, v in zip(texts, EMBEDDER.encode(texts), strict=True)]


def identical(matches):
    return [(m.issue.url, m.score, m.reasons, m.components) for m in matches]


def rank(target, query, lexicon, settings, top_k=10):
    return rank_batch(
        target, [query], settings=settings, labels=LABELS, now=NOW, lexicon=lexicon, top_k=top_k
    )[0]


def test_the_default_threshold_keeps_every_pool_of_normal_size_exact():
    settings = load_settings().ranking
    assert settings.candidates_above == 300_000
    whole, _ = ranked_pool(60, 1)
    assert not candidates.applies(whole, settings)
    assert not candidates.applies(whole, settings.model_copy(update={"candidates_above": None}))
    assert candidates.applies(whole, settings.model_copy(update={"candidates_above": 59}))


def test_at_the_threshold_the_stage_is_not_entered(monkeypatch):
    whole, lexicon = ranked_pool(60, 2)
    settings = load_settings().ranking.model_copy(update={"candidates_above": 60})

    def entered(*args, **kwargs):
        raise AssertionError("the candidate stage ran at the threshold")

    monkeypatch.setattr(candidates, "candidates", entered)
    for query in queries():
        through = candidates.rank_batch(
            whole, [query], settings=settings, labels=LABELS, now=NOW, lexicon=lexicon, top_k=10
        )[0]
        assert identical(through) == identical(rank(whole, query, lexicon, settings))


@hypothesis_settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    size=st.integers(12, 90),
    top_k=st.integers(1, 12),
    spare=st.floats(0.0, 1.0),
    learner=st.integers(0, len(PROFILES) - 1),
)
def test_candidates_holding_the_exact_list_rank_exactly(seed, size, top_k, spare, learner):
    """The candidates hold the exact list, every issue scoring at or above its last (before the
    hard-label rule, which only lowers), the labelled issues and the best BM25 one, and any share
    of the rest: the same list and reasons, scores to float32 rounding (the dense product of
    fewer rows)."""
    whole, lexicon = ranked_pool(size, seed)
    settings = load_settings().ranking
    query = queries()[learner]
    exact = rank(whole, query, lexicon, settings, top_k)
    row = score_batch(whole, [query], settings=settings, now=NOW, lexicon=lexicon)[0][0]
    lowest = min((m.score for m in exact), default=np.inf)
    _, lexical = candidates.other_terms(
        whole, query, settings=settings, now=NOW, lexicon=lexicon, level=None
    )
    rng = np.random.default_rng(seed)
    needed = np.flatnonzero(row >= lowest - 1e-9)
    chosen = np.union1d(needed, whole.labelled)
    chosen = np.union1d(chosen, [int(np.argmax(lexical))])
    chosen = np.union1d(chosen, np.flatnonzero(rng.random(size) < spare))
    rng.shuffle(chosen)
    found = candidates.Candidates(chosen, whole.vectors[chosen])
    among = candidates.candidate_pool(
        whole, found, candidates.term_ids(whole, query, lexicon, settings)
    )
    same_lists(rank(among, query, lexicon, settings, top_k), exact)


def test_the_stage_probing_every_cluster_ranks_exactly(monkeypatch):
    whole, lexicon = ranked_pool(80, 5)
    monkeypatch.setattr(candidates, "CLUSTER_SIZE", 10)
    monkeypatch.setattr(candidates, "PROBED", 80)
    settings = load_settings().ranking
    lowered = settings.model_copy(update={"candidates_above": 20})
    for query in queries():
        through = candidates.rank_batch(
            whole, [query], settings=lowered, labels=LABELS, now=NOW, lexicon=lexicon, top_k=10
        )[0]
        same_lists(through, rank(whole, query, lexicon, settings))


def test_an_issue_outside_the_probe_that_its_other_terms_lift_is_a_candidate(monkeypatch):
    whole, lexicon = ranked_pool(80, 6)
    monkeypatch.setattr(candidates, "CLUSTER_SIZE", 10)
    monkeypatch.setattr(candidates, "PROBED", 1)  # the nearest cluster alone
    settings = load_settings().ranking.model_copy(update={"candidates_above": 20})
    query = queries()[0]
    others, lexical = candidates.other_terms(
        whole, query, settings=settings, now=NOW, lexicon=lexicon, level=None
    )
    probed, _ = candidates.quantiser(whole).probe(candidates.direction(whole, query, settings), 1)
    found = candidates.candidates(
        whole, query, settings=settings, now=NOW, lexicon=lexicon, level=None, top_k=10
    ).positions
    outside = np.setdiff1d(np.arange(80), probed)
    best_other = outside[np.argmax(others[outside])]
    assert best_other in found
    assert int(np.argmax(lexical)) in found
    assert len(found) == len(np.unique(found))


def test_the_quantiser_groups_every_issue_once_and_a_restated_pool_reuses_it(monkeypatch):
    whole, _ = ranked_pool(90, 7)
    monkeypatch.setattr(candidates, "CLUSTER_SIZE", 9)
    settings = RankingSettings(candidates_above=10)
    candidates.prepare(whole, settings)
    grouped = candidates.quantiser(whole)
    assert len(grouped.centroids) == 10
    assert sorted(grouped.order.tolist()) == list(range(90))
    assert grouped.starts[0] == 0 and grouped.starts[-1] == 90
    centre = whole.centre
    units = (whole.vectors - centre.mean) / centre.norms[:, None]
    nearest = np.argmax(units @ grouped.centroids.T, axis=1)
    for cluster in range(len(grouped.centroids)):
        members = grouped.order[grouped.starts[cluster] : grouped.starts[cluster + 1]]
        assert (nearest[members] == cluster).all()
    again = restated_pool(whole, whole.snapshot)
    candidates.prepare(again, settings, whole)
    assert candidates.quantiser(again) is grouped
    moved = dataclasses.replace(whole, vectors=whole.vectors.copy())
    candidates.prepare(moved, settings, whole)
    assert candidates.quantiser(moved) is not grouped
    assert np.array_equal(candidates.quantiser(moved).centroids, grouped.centroids)


def test_below_the_threshold_no_quantiser_is_built():
    whole, _ = ranked_pool(40, 8)
    candidates.prepare(whole, RankingSettings())
    assert whole not in candidates._KEPT


def test_an_engine_above_the_threshold_prepares_its_pool_and_ranks_through_the_stage(
    staged_and_exact, monkeypatch
):
    staged, exact = staged_and_exact
    staged.warm_up()
    full = staged.index.pool()
    assert full in candidates._KEPT  # prepared by the refresh, before any request
    calls = []
    real = candidates.candidates
    monkeypatch.setattr(candidates, "candidates", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert is_compact(staged.index.snapshot.vectors)  # above the threshold
    for profile in PROFILES:
        mine, theirs = staged.match(profile, now=NOW), exact.match(profile, now=NOW)
        # the same lists and reasons; scores to float32 rounding (the BM25 weights, the centre)
        assert [(m.issue.url, m.reasons) for m in mine] == [
            (m.issue.url, m.reasons) for m in theirs
        ]
        assert [m.score for m in mine] == pytest.approx([m.score for m in theirs], abs=1e-5)
    assert len(calls) == len(PROFILES)


def test_issues_appended_in_place_are_grouped_alone(monkeypatch):
    whole, _ = ranked_pool(90, 10)
    monkeypatch.setattr(candidates, "CLUSTER_SIZE", 9)
    settings = RankingSettings(candidates_above=10)
    older = dataclasses.replace(whole, rows=whole.rows[:80], vectors=whole.vectors[:80])
    candidates.prepare(older, settings)
    before = candidates.quantiser(older)
    assert candidates.extends(whole.vectors, older.vectors)
    assert not candidates.extends(whole.vectors.copy(), older.vectors)
    assert not candidates.extends(older.vectors, older.vectors)
    candidates.prepare(whole, settings, older)
    after = candidates.quantiser(whole)
    assert np.array_equal(after.centroids, before.centroids)
    assert np.array_equal(after.nearest[:80], before.nearest)
    again = candidates.grouped(whole, before.centroids)
    assert np.array_equal(after.nearest[80:], again.nearest[80:])
    assert sorted(after.order.tolist()) == list(range(90))


def test_issues_carried_from_the_pool_before_keep_their_clusters_and_only_new_ones_are_grouped(
    monkeypatch,
):
    whole, _ = ranked_pool(90, 10)
    monkeypatch.setattr(candidates, "CLUSTER_SIZE", 9)
    settings = RankingSettings(candidates_above=10)
    candidates.prepare(whole, settings)
    before = candidates.quantiser(whole)
    # a merge that removed every third issue: a copy of the rest (not in place), then 5 new ones
    kept = np.delete(np.arange(85), np.arange(0, 85, 3))
    order = np.concatenate([kept, np.arange(85, 90)])
    fewer = dataclasses.replace(whole, rows=whole.rows[order], vectors=whole.vectors[order].copy())
    carried = np.concatenate([kept, np.full(5, -1)])
    grouped_calls = []
    real = candidates.grouped
    monkeypatch.setattr(
        candidates, "grouped", lambda *a, **k: grouped_calls.append(a[2]) or real(*a, **k)
    )
    candidates.prepare(fewer, settings, whole, carried)
    after = candidates.quantiser(fewer)
    assert np.array_equal(after.centroids, before.centroids)
    assert np.array_equal(after.nearest[: len(kept)], before.nearest[kept])
    fresh = real(fewer, before.centroids)
    assert np.array_equal(after.nearest[len(kept) :], fresh.nearest[len(kept) :])
    assert (grouped_calls[0] >= 0).sum() == len(kept)  # only the new issues were grouped
    assert sorted(after.order.tolist()) == list(range(len(fewer)))


@pytest.mark.parametrize("gone_share", [ranking_pool.GONE_SHARE, 0.0])
def test_an_index_that_closes_an_issue_keeps_the_other_issues_clusters(
    staged_and_exact, db, monkeypatch, gone_share
):
    """Whether the closed issue's row stays, gone, or a merge drops it (no gone rows allowed)."""
    monkeypatch.setattr(ranking_pool, "GONE_SHARE", gone_share)
    staged, _ = staged_and_exact
    staged.warm_up()
    before = staged.index.pool()
    grouped = candidates.quantiser(before)
    (closed,) = issues_by_url(db, [before.issue(3).url])
    upsert_issues(db, [dataclasses.replace(closed, state="closed")])
    known = []
    real = candidates.grouped
    monkeypatch.setattr(candidates, "grouped", lambda *a: known.append(a[2]) or real(*a))
    staged.index.refresh()
    assert (known[0] >= 0).all()  # every issue carried over: none grouped again
    after = staged.index.pool()
    assert len(after) - len(after.hidden) == len(before) - 1
    assert after.snapshot.row_of(closed.url) is None
    kept_rows = gone_share > 0
    assert (closed.url in after.snapshot.records.urls) == kept_rows
    assert after.hidden.tolist() == ([3] if kept_rows else [])
    now = candidates.quantiser(after)
    urls = list(before.snapshot.records.urls)
    for position in np.delete(np.arange(len(after)), after.hidden):
        was = urls.index(after.issue(position).url)
        assert now.nearest[position] == grouped.nearest[before.local[was]]


def test_vectors_that_arrive_late_are_grouped_alone(staged_and_exact, db, monkeypatch):
    staged, exact = staged_and_exact
    staged.warm_up()
    index = staged.index  # refreshed here without an encoder, as the bot's background pass
    late = [make_issue(950 + n, f"librosa onset {n}", repo=f"sound/x{n}") for n in range(4)]
    upsert_issues(db, late)  # stored without vectors: they wait, hidden in the pool
    index.refresh()
    waiting = index.pool()
    assert len(index.pending) == 4 and len(waiting.hidden) == 4
    known = []
    real = candidates.grouped
    monkeypatch.setattr(candidates, "grouped", lambda *a: known.append(a[2]) or real(*a))
    put_embeddings(db, HashingEmbedder().name, grid_vectors(late))  # the importer's
    assert index.collect_vectors() == 4
    filled = index.pool()
    assert not len(filled.hidden) and filled.vectors.base is waiting.vectors.base  # in place
    assert np.flatnonzero(known[0] < 0).tolist() == waiting.hidden.tolist()  # only they grouped
    kept = known[0] >= 0
    assert (known[0][kept] == candidates.quantiser(waiting).nearest[kept]).all()
    librosa = Profile(skills="librosa onset detection")
    mine, theirs = staged.match(librosa, now=NOW), exact.match(librosa, now=NOW)
    assert [m.issue.url for m in mine] == [m.issue.url for m in theirs]
    assert {i.url for i in late} <= {m.issue.url for m in mine}


def test_the_terms_that_choose_candidates_are_taken_once_an_hour(monkeypatch):
    whole, lexicon = ranked_pool(60, 11)
    settings = load_settings().ranking
    query = queries()[0]
    hour = NOW.replace(minute=0, second=0, microsecond=0)
    computed = []
    real = candidates.batch_terms
    monkeypatch.setattr(
        candidates, "batch_terms", lambda *a, **k: computed.append(k["now"]) or real(*a, **k)
    )
    later = [hour + timedelta(minutes=m, seconds=7) for m in (0, 19, 59)]
    sums = [
        candidates.other_terms(whole, query, settings=settings, now=t, lexicon=lexicon, level=None)
        for t in later
    ]
    assert computed == [hour] * 3
    assert all(np.array_equal(s[0], sums[0][0]) for s in sums)


def test_the_strongest_of_many_lifted_issues_are_kept():
    others = np.array([0.1, 0.9, 0.5, 0.7, 0.2, 0.8])
    lifted = np.array([0, 1, 2, 3, 5])
    assert sorted(candidates.strongest(lifted, others, 2).tolist()) == [1, 5]
    assert candidates.strongest(lifted, others, 9) is lifted
