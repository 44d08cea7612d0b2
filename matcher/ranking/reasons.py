"""The reasons under a match: read from the same term values that produced its score."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from types import EllipsisType
from typing import TYPE_CHECKING

import numpy as np

from matcher.catalog import Labels
from matcher.lexical import issue_language, issue_work_language, name_matches
from matcher.models import Issue, Level, Match
from matcher.ranking.terms import KINDS, BatchTerms, Query, asked_kinds, task_type
from matcher.settings import RankingSettings
from matcher.signals import (
    days_between,
    hard_label_reason,
    ramp_reason,
    stale_label_reason,
    stale_reason,
    task_fit_reason,
    unanswered_reason,
    welcoming_reason,
)

if TYPE_CHECKING:
    from matcher.ranking.pool import Lexicon, Pool

SIMILAR = 0.3  # a dense term at least this high is worth saying


# Top lists repeat the same issues for many learners, and a learner's matched words repeat
# across their list: both are read from memos (each costs regular expressions over the text).
_work_language = lru_cache(maxsize=65536)(issue_work_language)


@lru_cache(maxsize=65536)
def _named(matched: tuple[str, ...], phrases: tuple[str, ...]) -> list[str]:
    return name_matches(matched, phrases)


def named_matches(matched: Sequence[str], phrases: tuple[str, ...]) -> list[str]:
    """lexical.name_matches, memoised (a copy: the caller may change its list)."""
    return list(_named(tuple(matched), phrases))


def age(issue: Issue, now: datetime) -> str | None:
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
    work: str | None | EllipsisType = ...,
) -> list[str]:
    """The reasons for one issue from its matched terms, similarity, language and kind of work.

    Warnings come first (a hard label, no activity for long, comments left unanswered): a learner
    must not read only upbeat reasons for an issue that will be hard to finish. `ramp`
    (signals.ramp_reason) follows the kind of work: why it fits the learner's step. `settings`
    gives the warnings' thresholds (the defaults when None). `work` is
    lexical.issue_work_language(issue) when the caller knows it already (a pool's signals do).
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
    if dense >= SIMILAR:
        reasons.append(f"close to your profile (similarity {dense:.2f})")
    work = _work_language(issue) if isinstance(work, EllipsisType) else work
    family = issue_language(issue.language)
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
    when = age(issue, now)
    if when and not stale:  # the warning says the age already
        reasons.append(when)
    return reasons


def build_matches(
    pool: Pool,
    lexicon: Lexicon,
    query: Query,
    chosen: list[int],
    score: np.ndarray,
    terms: BatchTerms,
    column: int,
    *,
    labels: Labels,
    now: datetime,
    settings: RankingSettings | None = None,
    level: Level | None = None,
) -> list[Match]:
    """One learner's matches at the chosen pool positions: score (their row), term values and the
    reasons those values give (`column` is the learner's row in the batch's terms)."""
    if not chosen:
        return []
    positions = np.asarray(chosen)
    values_at = terms.at(column, positions)
    names = list(values_at)
    table = np.vstack(list(values_at.values())).T.tolist()  # (chosen, terms) as Python floats
    words = list(dict.fromkeys(query.terms))
    term_ids = [lexicon.vocabulary.get(t, -1) for t in words]
    # which chosen issue holds which of the learner's words: one search of each word's postings
    rows = pool.rows[positions]
    held = [pool.snapshot.holders(term, rows).tolist() for term in term_ids]
    asked = asked_kinds(query)
    # the pool's signals hold each issue's work language (an id) and kind: no text is read again
    language_names = {i: name for name, i in dict(lexicon.languages).items()}
    language_ids = pool.signals.language[positions].tolist()
    kinds = [KINDS[k] for k in pool.signals.kind[positions].tolist()]
    matches = []
    for n, (position, row, value, language_id, kind) in enumerate(
        zip(chosen, table, score[positions].tolist(), language_ids, kinds, strict=True)
    ):
        issue = pool.issue(position)
        values = dict(zip(names, row, strict=True))
        reasons = reasons_for(
            issue,
            named_matches(
                [t for t, holds in zip(words, held, strict=True) if holds[n]], query.phrases
            ),
            values["dense"],
            values["language"],
            labels,
            now,
            asked,
            ramp_reason(level, kind, values["ramp"], issue.repo),
            settings=settings,
            work=language_names.get(language_id),
        )
        components = {name: round(v, 4) for name, v in values.items()}
        matches.append(Match(issue=issue, score=value, reasons=reasons, components=components))
    return matches
