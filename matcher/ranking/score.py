"""The one scorer: a batch of learners against a pool (a learner alone is a batch of one).

score_batch gives the score and its terms; rank_batch applies what follows the sum (feedback
exclusions, the hard-label rule, top-k with the diversity cap) and writes the reasons. The bot,
the CLI, the digest and the benchmarks all rank through here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from matcher.catalog import Labels
from matcher.models import Feedback, Level, Match
from matcher.ranking.diversity import Selection, select
from matcher.ranking.pool import Lexicon, Pool
from matcher.ranking.reasons import build_matches
from matcher.ranking.terms import (
    BatchTerms,
    Query,
    batch_terms,
    combine_batch,
    feedback_shifts,
    kept,
    learner_free,
    opinion_matrix,
    warm_rows,
)
from matcher.ranking.vectors import width
from matcher.settings import RankingSettings
from matcher.signals import hold_below_beginner

Opinions = tuple[np.ndarray | None, np.ndarray | None]  # vectors of issues liked, dismissed


def score_batch(
    pool: Pool,
    queries: Sequence[Query],
    *,
    settings: RankingSettings,
    now: datetime,
    lexicon: Lexicon,
    shifts: Sequence[np.ndarray | None] | None = None,
    levels: Sequence[Level | None] | None = None,
    opinions: Sequence[Opinions] | None = None,
) -> tuple[np.ndarray, BatchTerms]:
    """Scores (learners x pool) and their terms (terms.BatchTerms; `.full()` spells them out).

    `shifts` (terms.feedback_shifts) nudge a learner's scores by what they liked and dismissed;
    or `opinions`, per learner the vectors of the issues they liked and dismissed (None, None:
    nothing said), from which the shifts are made in the dense term's pass over the pool.
    """
    liked = [mine for mine, _ in opinions or ()]
    disliked = [theirs for _, theirs in opinions or ()]
    stacked = opinion_matrix(liked, disliked, width(pool.vectors)) if opinions else None
    terms = batch_terms(
        pool, queries, settings=settings, now=now, lexicon=lexicon, levels=levels, opinions=stacked
    )
    if opinions:
        shifts = feedback_shifts(pool.vectors, liked, disliked, terms.opinions)
    score = combine_batch(terms, settings)
    for j, shift in enumerate(shifts or ()):
        if shift is not None:
            score[j] += settings.dense * shift
    return score, terms


def prepare(
    pool: Pool, settings: RankingSettings, now: datetime, previous: Pool | None = None
) -> None:
    """Compute what rankings of `pool` read before anyone ranks with it (the index calls this on
    its refresh thread), so the first request after a change does not: the learner-free terms
    at `now`'s minute, the hard-label rule's rows, the taken issues, and the word rows
    `previous` had computed for its learners (terms.warm_rows)."""
    learner_free(pool, now, settings)
    hard_rule_rows(pool, settings.include_taken)
    taken_positions(pool)
    if previous is not None:
        warm_rows(pool, previous)


@dataclass(frozen=True)
class HardRule:
    """The pool positions signals.keep_hard_below_beginner looks at, found once per pool."""

    hard: np.ndarray  # hard-labelled issues without a beginner label
    beginner: np.ndarray  # beginner-labelled issues a list may show (taken ones only if allowed)


def hard_rule_rows(pool: Pool, include_taken: bool) -> HardRule:
    """The pool's HardRule (kept with the pool)."""

    def compute() -> HardRule:
        rows = pool.labelled
        beginner = pool.signals.label[rows] > 0
        hard = rows[(pool.signals.hard[rows] > 0) & ~beginner]
        easy = rows[beginner]
        return HardRule(hard, easy if include_taken else easy[~pool.signals.taken[easy]])

    return kept(pool, ("hard_rule", include_taken), compute)


def hold_hard_below_beginner(
    score: np.ndarray,
    fit: Callable[[np.ndarray], np.ndarray],
    rule: HardRule,
    margin: float,
) -> None:
    """signals.keep_hard_below_beginner on one learner's score row, in place: `fit(positions)`
    is their dense and lexical terms' weighted sum there; a beginner issue whose score is -inf
    (dismissed or hidden) does not count, as one outside `eligible` does not there.

    The rule's arithmetic (signals.hold_below_beginner) over the rule's rows alone: a learner
    costs the labelled issues, not the pool (tests/matcher/test_scorer_fast_paths.py checks it
    against keep_hard_below_beginner).
    """
    if not len(rule.hard) or not len(rule.beginner):
        return
    easy = score[rule.beginner]
    easy[easy == -np.inf] = np.inf  # not shown: takes no part in the minimum
    hold_below_beginner(score, rule.hard, fit(rule.hard), fit(rule.beginner), easy, margin)


def hold_and_select(
    row: np.ndarray,
    fit: Callable[[np.ndarray], np.ndarray],
    rule: HardRule,
    margin: float,
    url_rank: np.ndarray,
    repos: Sequence[str],
    *,
    top_k: int,
    max_per_repo: int,
    diversity: bool = True,
) -> list[int]:
    """diversity.select_top after hold_hard_below_beginner, as applying the rule first gives.

    The rule only lowers hard-labelled issues: when every one of them scores below the edge of
    the candidates select looked at, it changes no score at or above the edge, so the same
    candidates come out in the same order and the rule's pass over the beginner issues is
    skipped (most learners: a hard-labelled issue rarely reaches the best few hundred).
    """

    def chosen() -> Selection:
        return select(
            row, None, url_rank, repos, top_k=top_k, max_per_repo=max_per_repo, diversity=diversity
        )

    first = chosen()
    if not len(rule.hard) or row[rule.hard].max() < first.edge:
        return first.chosen
    hold_hard_below_beginner(row, fit, rule, margin)
    return chosen().chosen


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
    shifts: Sequence[np.ndarray | None] | None = None,
    levels: Sequence[Level | None] | None = None,
    diversity: bool = True,
    opinions: Sequence[Opinions] | None = None,
) -> list[list[Match]]:
    """Each learner's top matches, best first, with reasons. Deterministic: ties break on URL.

    Dismissed and hidden issues (feedback) are never shown, nor taken ones unless
    settings.include_taken; `levels` place learners on the difficulty ramp (None: a newcomer);
    `shifts` or `opinions` as score_batch takes them.
    """
    levels = list(levels) if levels is not None else [None] * len(queries)
    score, terms = score_batch(
        pool,
        queries,
        settings=settings,
        now=now,
        lexicon=lexicon,
        shifts=shifts,
        levels=levels,
        opinions=opinions,
    )
    # what no list may show scores -inf: the rows are this batch's own, no per-learner mask
    score[:, pool.hidden] = -np.inf
    if not settings.include_taken:
        score[:, taken_positions(pool)] = -np.inf
    rule = hard_rule_rows(pool, settings.include_taken)
    results = []
    for column, (query, level) in enumerate(zip(queries, levels, strict=True)):
        said = feedback[column] if feedback else None
        row = score[column]
        if said is not None and (said.dismissed or said.hidden):
            row[pool.positions_of(said.dismissed | said.hidden)] = -np.inf

        def fit(positions: np.ndarray, column: int = column) -> np.ndarray:
            return (
                settings.dense * terms.dense[column, positions]
                + settings.lexical * terms.lexical[column, positions]
            )

        chosen = hold_and_select(
            row,
            fit,
            rule,
            settings.hard_label_margin,
            pool.url_rank,
            pool.repos,
            top_k=top_k,
            max_per_repo=settings.max_per_repo,
            diversity=diversity,
        )
        results.append(
            build_matches(
                pool,
                lexicon,
                query,
                chosen,
                row,
                terms,
                column,
                labels=labels,
                now=now,
                settings=settings,
                level=level,
            )
        )
    return results


def taken_positions(pool: Pool) -> np.ndarray:
    """Pool positions of taken issues (kept with the pool)."""
    return kept(pool, ("taken",), lambda: np.flatnonzero(pool.signals.taken))
