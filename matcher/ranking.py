"""Ranking: pure functions from a profile and candidate issues to scored matches with reasons."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np

from matcher.catalog import Labels
from matcher.lexical import BM25, issue_language, issue_work_language, name_matches
from matcher.models import Feedback, Issue, Level, Match
from matcher.settings import RankingSettings
from matcher.signals import (
    days_between,
    days_idle,
    days_unanswered,
    difficulty,
    hard_label_reason,
    keep_hard_below_beginner,
    kind_step,
    kinds_asked,
    neglect,
    ramp_fits,
    ramp_reason,
    stale_label_reason,
    stale_reason,
    task_fit,
    task_fit_reason,
    unanswered_reason,
    welcoming,
    welcoming_reason,
)

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


@dataclass(frozen=True)
class Query:
    """A learner's profile prepared for ranking: its vector and expanded lexical terms."""

    vector: np.ndarray
    terms: tuple[
        str, ...
    ]  # a term may repeat: the profile implies it more than once, so it weighs more
    languages: frozenset[str] = (
        frozenset()
    )  # programming languages the learner writes; empty = not judged
    intent: frozenset[str] = frozenset()  # kinds of work (TASK_TYPES) the learner's niche names
    phrases: tuple[str, ...] = ()  # the profile's phrases as written, to name matches in reasons


CENTRE_PRIOR = 20  # issues: how far a small pool's mean is trusted (see pool_centre)


@dataclass(frozen=True)
class Centre:
    """The pool's mean issue vector and each issue's distance from it (see centred_similarity)."""

    mean: np.ndarray  # float64
    norms: np.ndarray  # float64, |vector - mean| per issue


@dataclass(frozen=True)
class Candidates:
    """The pool to rank: issues, their vectors (row-aligned), and BM25 fitted on their text."""

    issues: Sequence[Issue]
    vectors: np.ndarray
    lexical: BM25
    centre: Centre | None = None


def fit_candidates(issues: Sequence[Issue], vectors: np.ndarray) -> Candidates:
    """Prepare a pool once; it can then rank any number of profiles."""
    urls = np.array([i.url for i in issues], dtype=object)
    return Candidates(
        issues,
        vectors,
        BM25().fit([i.embedding_text() for i in issues]),
        pool_centre(vectors, np.argsort(urls, kind="stable")) if len(issues) else None,
    )


def pool_centre(vectors: np.ndarray, order: np.ndarray) -> Centre:
    """The mean of the pool's vectors, summed in `order` (by URL: the same in every path).

    A handful of issues has no meaningful centre: the mean shrinks towards zero (no centring)
    by n / (n + CENTRE_PRIOR), so a focus pool of three issues is ranked almost as raw cosine.
    """
    n = len(order)
    mean = vectors[order].sum(axis=0, dtype=np.float64) / (n + CENTRE_PRIOR)
    squared = np.einsum("ij,ij->i", vectors, vectors, dtype=np.float64)
    along = (vectors @ mean.astype(vectors.dtype)).astype(np.float64)
    norms = np.sqrt(np.maximum(squared - 2 * along + mean @ mean, 1e-12))
    return Centre(mean, norms)


def centred_similarity(vectors: np.ndarray, centre: Centre, query: np.ndarray) -> np.ndarray:
    """Cosine between the issues and the learner after both move by the pool's mean vector.

    Sentence embeddings share a large common direction (every issue here is about ML software),
    so raw cosines differ little and favour generic issues; measured from the pool's centre,
    what sets an issue and a learner apart dominates. Unsupervised: the pool alone decides it.
    """
    moved = query.astype(np.float64) - centre.mean
    moved /= max(float(np.linalg.norm(moved)), 1e-12)
    along = (vectors @ moved.astype(vectors.dtype)).astype(np.float64)
    return (along - centre.mean @ moved) / centre.norms


def dense_similarity(pool: Candidates, query: Query, settings: RankingSettings) -> np.ndarray:
    """The dense component: centred (settings.centre) or raw cosine."""
    if not len(pool.issues):
        return np.zeros(0)
    if settings.centre and pool.centre is not None:
        return centred_similarity(pool.vectors, pool.centre, query.vector)
    return pool.vectors @ query.vector


def _normalise(values: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] by the best value in the pool (zeros stay zeros)."""
    top = values.max(initial=0.0)
    return values / top if top > 0 else np.zeros_like(values)


def freshness(issue: Issue, now: datetime, half_life_days: float) -> float:
    """1 for activity today, halving every half-life; 0.5 when the age is unknown."""
    days = days_between(issue.updated_at or issue.created_at, now)
    return 0.5 if days is None else 0.5 ** (days / half_life_days)


def competition(issue: Issue) -> float:
    """0 when free; 1 when someone took it; a little for a crowded thread."""
    if issue.is_taken:
        return 1.0
    return min(issue.comments, 20) / 80


def language_fit(issue: Issue, languages: frozenset[str]) -> float:
    """+1 when the issue's work is in a language the learner writes, -1 when in another one, 0
    when either side says nothing (a profile without languages, a docs or config repository)."""
    language = issue_work_language(issue)
    if not languages or language is None:
        return 0.0
    return 1.0 if language in languages else -1.0


def feedback_shift(
    vectors: np.ndarray, liked: np.ndarray | None, disliked: np.ndarray | None
) -> np.ndarray:
    """Per-issue nudge: up when close to liked issues, down when close to dismissed ones."""
    shift = np.zeros(vectors.shape[0])
    if liked is not None and len(liked):
        shift += 0.5 * np.clip(vectors @ liked.T, 0, None).max(axis=1)
    if disliked is not None and len(disliked):
        shift -= 0.8 * np.clip(vectors @ disliked.T, 0, None).max(axis=1)
    return shift


def combine(parts: dict[str, np.ndarray], settings: RankingSettings) -> np.ndarray:
    """The weighted sum of score components (see score_candidates); also used for tuning."""
    return (
        settings.dense * parts["dense"]
        + settings.lexical * parts["lexical"]
        + settings.beginner_label * parts["label"]
        + settings.freshness * parts["fresh"]
        - settings.competition * parts["taken"]
        - settings.hard_label * parts["hard"]
        + settings.language * parts["language"]
        + settings.task_fit * parts["task"]
        + settings.intent * parts["intent"]
        + settings.welcoming * parts["welcome"]
        - settings.neglect * parts["neglect"]
        + settings.ramp * parts["ramp"]
    )


def asked_kinds(query: Query) -> frozenset[str]:
    """The kinds of work (TASK_TYPES) the learner's own query words ask for."""
    return kinds_asked(" ".join(query.terms), TASK_TYPES)


def intent_fits(kinds: Sequence[str | None], intent: frozenset[str]) -> np.ndarray:
    """1 for an issue of a kind of work the learner's niche names (docs, tests...), else 0."""
    return np.array([float(kind in intent) for kind in kinds], dtype=float)


def task_fits(kinds: Sequence[str | None], asked: frozenset[str]) -> np.ndarray:
    """signals.task_fit per issue kind (+1 asked, -1 generic work not asked, 0 otherwise)."""
    return np.array([task_fit(kind, asked) for kind in kinds], dtype=float)


def neglect_of(
    issues: Sequence[Issue], now: datetime, settings: RankingSettings, labels: Labels
) -> np.ndarray:
    """signals.neglect per issue: how long it has been idle, its comments left unanswered, or a
    stale label."""
    idle = [days_idle(i, now) for i in issues]
    waiting = [days_unanswered(i, now) for i in issues]
    return neglect(
        np.array([np.nan if d is None else d for d in idle], dtype=float),
        np.array([np.nan if d is None else d for d in waiting], dtype=float),
        settings.stale_after_days,
        settings.unanswered_after_days,
        np.array([labels.stale_label(i.labels) is not None for i in issues], dtype=bool),
    )


def ramp_terms(issues: Sequence[Issue], labels: Labels, level: Level | None) -> np.ndarray:
    """signals.ramp_fits per issue for the learner's target step; 0 everywhere when it is off."""
    if level is None or not level.active:
        return np.zeros(len(issues))
    kinds = [task_type(i) for i in issues]
    steps = np.array([kind_step(kind) for kind in kinds], dtype=float)
    hardness = np.array([difficulty(i, labels, k) for i, k in zip(issues, kinds, strict=True)])
    return ramp_fits(steps, hardness, level.target)


def fit_before_labels(parts: dict[str, np.ndarray], settings: RankingSettings) -> np.ndarray:
    """How well each issue fits the learner by its text alone (the hard-label rule compares it)."""
    return settings.dense * parts["dense"] + settings.lexical * parts["lexical"]


def score_candidates(
    query: Query,
    pool: Candidates,
    *,
    settings: RankingSettings,
    labels: Labels,
    now: datetime,
    shift: np.ndarray | None = None,
    level: Level | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The score of every issue in the pool, and its components."""
    dense = dense_similarity(pool, query, settings)
    lexical = _normalise(pool.lexical.score(query.terms))
    label = np.array([labels.beginner_strength(i.labels) for i in pool.issues])
    hard = np.array([float(labels.is_hard(i.labels)) for i in pool.issues])
    fresh = np.array([freshness(i, now, settings.freshness_half_life_days) for i in pool.issues])
    taken = np.array([competition(i) for i in pool.issues])
    language = np.array([language_fit(i, query.languages) for i in pool.issues])
    kinds = [task_type(i) for i in pool.issues]
    task = task_fits(kinds, asked_kinds(query))
    welcome = np.array([welcoming(i) for i in pool.issues], dtype=float)
    parts = {
        "dense": dense,
        "lexical": lexical,
        "label": label,
        "fresh": fresh,
        "taken": taken,
        "hard": hard,
        "language": language,
        "task": task,
        "intent": intent_fits(kinds, query.intent),
        "welcome": welcome,
        "neglect": neglect_of(pool.issues, now, settings, labels),
        "ramp": ramp_terms(pool.issues, labels, level),
    }
    score = combine(parts, settings)
    if shift is not None:
        score = score + settings.dense * shift
    return score, parts


def diversify(
    order: Sequence[int], repos: Sequence[str], max_per_repo: int, top_k: int
) -> list[int]:
    """Take the best issues, at most `max_per_repo` from one repository while others remain."""
    chosen: list[int] = []
    overflow: list[int] = []
    per_repo: dict[str, int] = {}
    for index in order:
        repo = repos[index]
        if per_repo.get(repo, 0) < max_per_repo:
            chosen.append(index)
            per_repo[repo] = per_repo.get(repo, 0) + 1
        else:
            overflow.append(index)
        if len(chosen) == top_k:
            return chosen
    return (chosen + overflow)[:top_k]


def rank(
    query: Query,
    pool: Candidates,
    *,
    settings: RankingSettings,
    labels: Labels,
    now: datetime,
    top_k: int = 10,
    feedback: Feedback | None = None,
    shift: np.ndarray | None = None,
    diversity: bool = True,
    level: Level | None = None,
) -> list[Match]:
    """The top matches for one learner, best first, each with its reasons. Deterministic.

    `level` places the learner on the difficulty ramp (matcher.ramp.level_of); None: a newcomer.
    """
    if not pool.issues:
        return []
    score, parts = score_candidates(
        query, pool, settings=settings, labels=labels, now=now, shift=shift, level=level
    )
    excluded = (feedback.dismissed | feedback.hidden) if feedback else frozenset()
    eligible = [
        i
        for i, issue in enumerate(pool.issues)
        if issue.is_open
        and issue.url not in excluded
        and (settings.include_taken or not issue.is_taken)
    ]
    shown = np.zeros(len(pool.issues), dtype=bool)
    shown[eligible] = True
    score = keep_hard_below_beginner(
        score,
        fit_before_labels(parts, settings),
        parts["hard"] > 0,
        parts["label"] > 0,
        settings.hard_label_margin,
        eligible=shown,
    )
    # Ties break on URL so the same inputs always give the same order.
    order = sorted(eligible, key=lambda i: (-score[i], pool.issues[i].url))
    if diversity:
        order = diversify(order, [i.repo for i in pool.issues], settings.max_per_repo, top_k)
    return [
        Match(
            issue=pool.issues[i],
            score=float(score[i]),
            reasons=explain(query, pool, i, parts, labels, now, settings, level),
            components={name: round(float(values[i]), 4) for name, values in parts.items()},
        )
        for i in order[:top_k]
    ]


@lru_cache(maxsize=65536)  # top lists repeat the same issues for many learners
def task_type(issue: Issue) -> str | None:
    """The kind of work, from labels first, then the title."""
    for text in (" ".join(issue.labels), issue.title):
        for name, pattern in TASK_TYPES:
            if pattern.search(text):
                return name
    return None


def _age(issue: Issue, now: datetime) -> str | None:
    """'updated 3 days ago'; 'opened 2 years ago' when only the creation time is known."""
    updated = days_between(issue.updated_at, now)
    what = "updated"
    if updated is None:
        updated, what = days_between(issue.created_at, now), "opened"
    if updated is None:
        return None
    days = int(updated)
    if days == 0:
        return f"{what} today"
    if days < 60:
        return f"{what} {days} day{'s' if days != 1 else ''} ago"
    if days < 730:
        return f"{what} {days // 30} months ago"
    return f"{what} {days // 365} years ago"


def explain(
    query: Query,
    pool: Candidates,
    index: int,
    parts: dict[str, np.ndarray],
    labels: Labels,
    now: datetime,
    settings: RankingSettings | None = None,
    level: Level | None = None,
) -> list[str]:
    """Short reasons a person can check against the issue text."""
    issue = pool.issues[index]
    return reasons_for(
        issue,
        name_matches(pool.lexical.matched_terms(index, query.terms), query.phrases),
        float(parts["dense"][index]),
        float(parts["language"][index]),
        labels,
        now,
        asked_kinds(query),
        ramp_reason(level, task_type(issue), float(parts["ramp"][index]), issue.repo),
        settings=settings,
    )


def reasons_for(
    issue: Issue,
    matched: list[str],
    dense: float,
    language: float,
    labels: Labels,
    now: datetime,
    asked: frozenset[str] = frozenset(),
    ramp: str | None = None,
    *,
    settings: RankingSettings | None = None,
) -> list[str]:
    """The reasons for one issue from its matched terms, similarity, language and kind of work.

    Warnings come first (a hard label, no activity for long, comments left unanswered): a learner
    must not read only upbeat reasons for an issue that will be hard to finish. `ramp`
    (signals.ramp_reason) follows the kind of work: why it fits the learner's step. `settings`
    gives the warnings' thresholds (the defaults when None).
    """
    settings = settings or RankingSettings()
    warning = hard_label_reason(issue, labels)
    reasons = [warning] if warning else []
    marked = stale_label_reason(issue, labels)
    stale = stale_reason(issue, now, settings.stale_after_days)
    waiting = unanswered_reason(issue, now, settings.unanswered_after_days)
    reasons.extend(warning for warning in (marked, stale, waiting) if warning)
    if matched:
        reasons.append("matches: " + ", ".join(matched[:6]))
    if dense >= 0.3:
        reasons.append(f"close to your profile (similarity {dense:.2f})")
    work, family = issue_work_language(issue), issue_language(issue.language)
    if language and work != family:
        repo_language = f" (the repository is {issue.language})" if issue.language else ""
        known = "which you know" if language > 0 else "not among your languages"
        reasons.append(f"the work is in {work}{repo_language}, {known}")
    elif language > 0:
        same = family == (issue.language or "").lower()  # C counts as c++: never say they named C
        reasons.append(
            f"written in {issue.language}{'' if same else f' ({family} family)'}, which you know"
        )
    elif language < 0:
        reasons.append(f"written in {issue.language}, not among your languages")
    kind = task_type(issue)
    if kind:
        reasons.append(task_fit_reason(kind, asked) or kind)
    if ramp:
        reasons.append(ramp)
    best = labels.best_beginner_label(issue.labels)
    if best:
        reasons.append(f"labelled '{best}'")
    welcome = welcoming_reason(issue)
    if welcome:
        reasons.append(welcome)
    if issue.is_taken:
        who = (
            f"assigned to {', '.join(issue.assignees)}"
            if issue.assignees
            else ("has a linked pull request" if issue.linked_prs else "claimed in a comment")
        )
        reasons.append(f"taken: {who}")
    age = _age(issue, now)
    if age and not stale:  # the warning says the age already
        reasons.append(age)
    return reasons
