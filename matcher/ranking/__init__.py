"""Ranking: a profile and candidate issues in, scored matches with reasons out.

terms.py holds the score's terms and how they are weighed (TERMS); pool.py the issues as arrays;
score.py the one scorer (a batch of learners, a learner alone being a batch of one);
diversity.py the per-repository cap; reasons.py what a person reads under a match; index.py the
warm index a process keeps of its store. pool, score and index need scipy and are imported by
name (`from matcher.ranking.score import rank_batch`), so importing the package stays light.
"""

from matcher.ranking.diversity import diversify, select_top
from matcher.ranking.reasons import reasons_for
from matcher.ranking.terms import (
    CENTRE_PRIOR,
    TASK_TYPES,
    TERMS,
    Centre,
    Query,
    asked_kinds,
    centred_similarity,
    combine,
    feedback_shifts,
    fit_before_labels,
    intent_fits,
    pool_centre,
    task_type,
)

__all__ = [
    "CENTRE_PRIOR",
    "TASK_TYPES",
    "TERMS",
    "Centre",
    "Query",
    "asked_kinds",
    "centred_similarity",
    "combine",
    "diversify",
    "feedback_shifts",
    "intent_fits",
    "fit_before_labels",
    "pool_centre",
    "reasons_for",
    "select_top",
    "task_type",
]
