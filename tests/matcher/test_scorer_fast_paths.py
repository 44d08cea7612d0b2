"""The scorer's fast paths give what the plain rules give: the hard-label rule on a batch's own
rows (matcher.ranking.score) against signals.keep_hard_below_beginner, combine_batch against
combine, select_top on -inf rows against select_top with an eligible mask, and the candidates'
edge found from a sample against a partition of the whole row."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from matcher.catalog import load_catalog
from matcher.engine import query_for
from matcher.models import Level
from matcher.ranking.diversity import select_top, wanted_th_highest
from matcher.ranking.pool import Lexicon, build_pool, snapshot_of
from matcher.ranking.score import HardRule, hold_and_select, hold_hard_below_beginner
from matcher.ranking.terms import _MEMO, batch_terms, combine, combine_batch, learner_free
from matcher.settings import load_settings
from matcher.signals import keep_hard_below_beginner
from tests.conftest import NOW
from tests.fakes.embedder import HashingEmbedder
from tests.matcher.test_index import PROFILES, pool


def _case(seed: int, size: int):
    rng = np.random.default_rng(seed)
    # few distinct values: ties between scores and between fits are common
    score = rng.integers(0, 8, size) / 8.0
    fit = rng.integers(0, 6, size) / 10.0
    hard = rng.random(size) < 0.3
    beginner = rng.random(size) < 0.5
    allowed = rng.random(size) < 0.85
    excluded = rng.random(size) < 0.1
    return rng, score, fit, hard, beginner, allowed, excluded


@hypothesis_settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(1, 60), margin=st.sampled_from([0, 0.1, 0.3]))
def test_the_hard_label_rule_on_a_batch_row_is_signals_rule(seed, size, margin):
    _, score, fit, hard, beginner, allowed, excluded = _case(seed, size)
    eligible = allowed & ~excluded
    expected = keep_hard_below_beginner(score, fit, hard, beginner, margin, eligible=eligible)

    row = score.copy()
    row[~allowed | excluded] = -np.inf  # as rank_batch marks what no list may show
    rule = HardRule(np.flatnonzero(hard & ~beginner), np.flatnonzero(beginner & allowed))
    hold_hard_below_beginner(row, lambda positions: fit[positions], rule, margin)
    np.testing.assert_array_equal(row[eligible], expected[eligible])


@hypothesis_settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(1, 400), top_k=st.integers(1, 12))
def test_select_top_on_minus_infinity_rows_is_select_top_with_a_mask(seed, size, top_k):
    rng, score, _, _, _, allowed, excluded = _case(seed, size)
    eligible = allowed & ~excluded
    url_rank = rng.permutation(size)
    repos = [f"r{n}" for n in rng.integers(0, 4, size)]
    masked = np.where(eligible, score, -np.inf)
    for diversity in (True, False):
        kwargs = {"top_k": top_k, "max_per_repo": 2, "diversity": diversity}
        assert select_top(masked, None, url_rank, repos, **kwargs) == select_top(
            score, eligible, url_rank, repos, **kwargs
        )


@hypothesis_settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(8, 70), ramp=st.booleans())
def test_combine_batch_is_combine_of_every_term(seed, size, ramp):
    issues, embedder, lexicon = pool(size, seed=seed), HashingEmbedder(), Lexicon()
    vectors = embedder.encode([i.embedding_text() for i in issues])
    snapshot = snapshot_of(issues, vectors, load_catalog().labels, lexicon)
    ranked_pool = build_pool(snapshot, np.arange(len(issues)))
    texts = [p.query_text() for p in PROFILES]
    queries = [query_for(t, v) for t, v in zip(texts, embedder.encode(texts), strict=True)]
    level = Level(ready=2) if ramp else None
    settings = load_settings().ranking
    terms = batch_terms(
        ranked_pool, queries, settings=settings, now=NOW, lexicon=lexicon, levels=[level] * 5
    )
    np.testing.assert_allclose(
        combine_batch(terms, settings), combine(terms.full(), settings), rtol=0, atol=1e-12
    )


@hypothesis_settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    size=st.integers(1, 700),
    top_k=st.integers(1, 12),
    diversity=st.booleans(),
)
def test_the_rule_skipped_below_the_candidates_edge_changes_no_list(seed, size, top_k, diversity):
    rng, score, fit, hard, beginner, allowed, excluded = _case(seed, size)
    score = score + rng.normal(0, 0.2, size) * (rng.random() < 0.5)  # ties, or a spread
    score[hard & ~beginner] -= rng.choice([0.0, 0.5, 2.0])  # hard issues near the top, or far
    row = score.copy()
    row[~allowed | excluded] = -np.inf
    rule = HardRule(np.flatnonzero(hard & ~beginner), np.flatnonzero(beginner & allowed))
    url_rank = rng.permutation(size)
    repos = [f"r{n}" for n in rng.integers(0, int(rng.integers(1, 30)), size)]
    kwargs = {"top_k": top_k, "max_per_repo": 2, "diversity": diversity}

    always = row.copy()
    hold_hard_below_beginner(always, lambda positions: fit[positions], rule, 0.3)
    expected = select_top(always, None, url_rank, repos, **kwargs)
    chosen = hold_and_select(
        row, lambda positions: fit[positions], rule, 0.3, url_rank, repos, **kwargs
    )
    assert chosen == expected
    np.testing.assert_array_equal(row[chosen], always[chosen])


@hypothesis_settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    size=st.integers(1, 3000),
    distinct=st.sampled_from([2, 10, 1000]),
    hidden=st.sampled_from([0.0, 0.5, 0.97]),
    sorted_=st.booleans(),
    share=st.floats(0, 1),
)
def test_the_wanted_th_highest_is_the_whole_rows_partition(
    seed, size, distinct, hidden, sorted_, share
):
    # ties, hidden rows (-inf) and rows in score order (a strided sample's worst case)
    rng = np.random.default_rng(seed)
    values = rng.integers(0, distinct, size) / distinct
    values[rng.random(size) < hidden] = -np.inf
    if sorted_:
        values.sort()
    wanted = max(1, round(share * size))
    assert wanted_th_highest(values, wanted) == np.sort(values)[size - wanted]


def test_requests_within_a_minute_share_the_learner_free_terms():
    """Each request brings its own `now`: within one minute the terms no learner changes are
    computed once; the next minute's are its own, and fresher issues age in them."""
    issues, lexicon = pool(40, seed=3), Lexicon()
    vectors = HashingEmbedder().encode([i.embedding_text() for i in issues])
    ranked_pool = build_pool(snapshot_of(issues, vectors, load_catalog().labels, lexicon))
    settings = load_settings().ranking
    minute = NOW.replace(second=0, microsecond=0)
    first = learner_free(ranked_pool, minute + timedelta(seconds=5), settings)
    assert learner_free(ranked_pool, minute + timedelta(seconds=59.9), settings) is first
    later = learner_free(ranked_pool, minute + timedelta(days=30), settings)
    assert later is not first
    # the later minute's replaced the earlier's: a pool keeps one minute's
    assert [key[0] for key in _MEMO[ranked_pool]].count("learner_free") == 1
    assert (later[0]["fresh"] <= first[0]["fresh"]).all()
    assert (later[0]["fresh"] < first[0]["fresh"]).any()
