"""The one scorer: a batch of learners against a pool (a learner alone is a batch of one).

score_batch gives the score and its terms; rank_batch applies what follows the sum (feedback
exclusions, the hard-label rule, top-k with the diversity cap) and writes the reasons. The bot,
the CLI, the digest and the benchmarks all rank through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from matcher.catalog import Labels
from matcher.models import Feedback, Level, Match
from matcher.ranking.diversity import select_top
from matcher.ranking.pool import Lexicon, Pool
from matcher.ranking.reasons import build_matches
from matcher.ranking.terms import Query, combine, term_values
from matcher.settings import RankingSettings
from matcher.signals import keep_hard_below_beginner


def score_batch(
    pool: Pool,
    queries: Sequence[Query],
    *,
    settings: RankingSettings,
    now: datetime,
    lexicon: Lexicon,
    shifts: Sequence[np.ndarray | None] | None = None,
    levels: Sequence[Level | None] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Scores (learners x pool) and their terms (terms.TERMS; a per-issue term is 1 x pool).

    `shifts` (terms.feedback_shifts) nudge a learner's scores by what they liked and dismissed.
    """
    parts = term_values(pool, queries, settings=settings, now=now, lexicon=lexicon, levels=levels)
    score = combine(parts, settings)
    for j, shift in enumerate(shifts or ()):
        if shift is not None:
            score[j] += settings.dense * shift
    return score, parts


def hold_hard_below_beginner(
    pool: Pool,
    score: np.ndarray,
    parts: dict[str, np.ndarray],
    eligible: np.ndarray,
    settings: RankingSettings,
) -> np.ndarray:
    """One learner's scores after signals.keep_hard_below_beginner (`parts` holds their row of
    the dense and lexical terms), over the issues the list may show.

    Only labelled issues take part in the rule (a hard-only one is held below a beginner one),
    so it runs over those rows alone: a learner costs the labelled issues, not the pool.
    """
    rows = pool.labelled
    if not len(rows):
        return score
    fit = settings.dense * parts["dense"][rows] + settings.lexical * parts["lexical"][rows]
    held = keep_hard_below_beginner(
        score[rows],
        fit,
        pool.signals.hard[rows] > 0,
        pool.signals.label[rows] > 0,
        settings.hard_label_margin,
        eligible=eligible[rows],
    )
    score = score.copy()
    score[rows] = held
    return score


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
) -> list[list[Match]]:
    """Each learner's top matches, best first, with reasons. Deterministic: ties break on URL.

    Dismissed and hidden issues (feedback) are never shown, nor taken ones unless
    settings.include_taken; `levels` place learners on the difficulty ramp (None: a newcomer).
    """
    levels = list(levels) if levels is not None else [None] * len(queries)
    score, parts = score_batch(
        pool, queries, settings=settings, now=now, lexicon=lexicon, shifts=shifts, levels=levels
    )
    allowed = np.ones(len(pool), dtype=bool) if settings.include_taken else ~pool.signals.taken
    results = []
    for column, (query, level) in enumerate(zip(queries, levels, strict=True)):
        said = feedback[column] if feedback else None
        eligible = allowed.copy()
        if said is not None:
            eligible[pool.positions_of(said.dismissed | said.hidden)] = False
        own = {"dense": parts["dense"][column], "lexical": parts["lexical"][column]}
        score[column] = hold_hard_below_beginner(pool, score[column], own, eligible, settings)
        chosen = select_top(
            score[column],
            eligible,
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
                score[column],
                parts,
                column,
                labels=labels,
                now=now,
                settings=settings,
                level=level,
            )
        )
    return results
