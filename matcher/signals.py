"""General signals about an issue that carry to unseen repositories: how hard it looks, and the
rule that keeps a hard-labelled issue below a comparable beginner-labelled one.

Pure functions over an Issue and the label catalogue; nothing here knows a repository by name
or a word fitted to one benchmark. The one scorer (matcher.ranking: terms.py, score.py,
reasons.py) uses them (it imports this module, never the reverse):

- the score gains settings.task_fit * task_fit(task_type(issue), asked), where
  asked = kinds_asked(" ".join(query.terms), TASK_TYPES);
- after the score and before top-k, keep_hard_below_beginner over the eligible issues, with
  fit = settings.dense * dense + settings.lexical * lexical;
- the reasons (matcher.ranking.reasons.reasons_for): hard_label_reason first; task_fit_reason
  in place of the bare task type when set;
- the score loses settings.neglect * neglect(days idle, days unanswered, ...): an issue nobody
  touched for stale_after_days, or whose last comments wait unanswered for unanswered_after_days,
  sinks; stale_reason and unanswered_reason say so first among the reasons. Unknown activity
  is neutral;
- the difficulty ramp: the score gains settings.ramp * ramp_fits(steps, difficulties, target)
  for a learner whose Level is active (a history past step 1, or a pace asked for), and
  ramp_reason follows the kind of work in the reasons. Off, the term is 0 for every issue.
bench/tune_ranking.py measures them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np

from matcher.catalog import Labels, normalize_label
from matcher.models import TOP_STEP, Issue, Level

NEUTRAL = 0.5  # difficulty when nothing on the issue says anything

# Kinds of work (matcher.ranking.task_type) a newcomer usually finishes, and kinds that ask more.
EASIER_KINDS = frozenset({"docs task", "tests task", "example", "typing"})
HARDER_KINDS = frozenset({"feature", "performance"})

# Kinds of work any repository has, which match a learner through the repository's vocabulary
# rather than their skills: they count against a learner who does not ask for them.
GENERIC_KINDS = frozenset({"docs task", "tests task", "typing", "CI / tooling"})

# How a reason names a kind of work (matcher.ranking.TASK_TYPES) when "a <kind>" reads wrongly.
_KIND_PHRASES = {
    "example": "an example",
    "CI / tooling": "CI / tooling work",
    "performance": "performance work",
    "typing": "typing work",
}

# Words in a title or label that mark an umbrella or design issue rather than one task.
_UMBRELLA = re.compile(
    r"\b(meta[- ]?issue|tracking issue|roadmap|rfc|proposal|epic|umbrella|design doc)\b", re.I
)
_TRACEBACK_HEAD = "Traceback (most recent call last)"
_STACK_FRAME = re.compile(r"^\s*at [\w.$]+\(", re.M)  # a JVM or JavaScript stack trace line
_FILE_PATH = re.compile(
    r"(?<![\w/])[\w.-]+(?:/[\w.-]+)*\.(?:py|pyi|md|rst|ipynb|ya?ml|toml|cfg|txt|json|"
    r"cpp|cc|cu|h|hpp|c|rs|go|java|scala|ts|tsx|js|jsx|css|r|jl)\b"
)
_LONG_BODY = 1500  # characters; a body this long usually asks for more than one change
# _FILE_PATH's extension alone: a fast scan (building an index runs these on every issue), and
# no _FILE_PATH match can start before the path characters that lead to its first hit
_EXTENSION = re.compile(_FILE_PATH.pattern[_FILE_PATH.pattern.index(r"\.(?:") :])


def hard_label(issue: Issue, labels: Labels) -> str | None:
    """The first label on the issue that the catalogue marks as hard, as spelled on the issue."""
    return next((name for name in issue.labels if normalize_label(name) in labels.hard), None)


def hard_label_reason(issue: Issue, labels: Labels) -> str | None:
    """'labelled 'complex': harder than a first issue' when a hard label says so."""
    name = hard_label(issue, labels)
    return f"labelled '{name}': harder than a first issue" if name else None


def difficulty(issue: Issue, labels: Labels, kind: str | None = None) -> float:
    """How hard the issue looks to a newcomer, 0 (easy) to 1 (hard); 0.5 when nothing says.

    Labels speak loudest (a beginner label pulls down by its strength, a hard label pushes up);
    the kind of work, an umbrella title, a long body or a traceback move it a little; a file path
    named in the body points at where to start, which makes it easier. `kind` is
    matcher.ranking.task_type(issue).
    """
    return difficulty_beyond_labels(label_difficulty(issue, labels), issue, kind)


def label_difficulty(issue: Issue, labels: Labels) -> float:
    """What `difficulty` makes of the beginner and hard labels alone (the same for every issue
    with the same labels: a snapshot computes it once per label set)."""
    estimate = NEUTRAL
    estimate -= 0.35 * labels.beginner_strength(issue.labels)
    if hard_label(issue, labels):
        estimate += 0.35
    return estimate


def difficulty_beyond_labels(
    estimate: float, issue: Issue, kind: str | None, marks: int | None = None
) -> float:
    """`difficulty` from label_difficulty's `estimate`: the kind of work, the title and body
    (their text_marks, computed here unless given)."""
    if marks is None:
        marks = text_marks(issue.title, issue.body)
    if kind in EASIER_KINDS:
        estimate -= 0.1
    elif kind in HARDER_KINDS:
        estimate += 0.05
    if marks & UMBRELLA_TITLE or _umbrella_label(issue.labels):
        estimate += 0.15
    if marks & LONG_BODY:
        estimate += 0.05
    if marks & TRACEBACK:
        estimate += 0.05
    if marks & NAMES_A_FILE:
        estimate -= 0.05
    return float(min(max(estimate, 0.0), 1.0))


# text_marks' bits: what `difficulty` reads in an issue's title and body
UMBRELLA_TITLE, LONG_BODY, TRACEBACK, NAMES_A_FILE = 1, 2, 4, 8
ALL_MARKS = UMBRELLA_TITLE | LONG_BODY | TRACEBACK | NAMES_A_FILE


def text_marks(title: str, body: str | None) -> int:
    """What `difficulty` reads in a title and body, as bits: an umbrella title, a long body, a
    traceback or several code blocks, a file named."""
    text = body or ""
    return (
        UMBRELLA_TITLE * (_UMBRELLA.search(title) is not None)
        | LONG_BODY * (len(text) >= _LONG_BODY)
        | TRACEBACK * (has_traceback(text) or text.count("```") >= 4)
        | NAMES_A_FILE * names_a_file(text)
    )


TEXT_FACTS_VERSION = 1  # change it with anything that changes what TextFacts hold for a text


@dataclass(frozen=True)
class TextFacts:
    """What an issue's title and body alone say for its signals (matcher.ranking.pool
    .text_facts), kept by the store under text_facts_key so that a warm-up does not scan every
    text again (matcher.store.text_facts)."""

    kind: str | None  # matcher.ranking.terms.kind_of_text of the title
    marks: int  # text_marks
    cue_counts: tuple[int, ...]  # lexical.work_cue_counts of the title and body


def text_facts_key(issue: Issue) -> str:
    """The key of an issue's TextFacts: a hash of its title and body, nothing else."""
    return text_facts_key_of(issue.title, issue.body)


def text_facts_key_of(title: str, body: str) -> str:
    text = f"{len(title)}:{title}{body}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@lru_cache(maxsize=65536)  # a pool has few distinct label sets
def _umbrella_label(labels: tuple[str, ...]) -> bool:
    return any(_UMBRELLA.search(x) for x in labels)


def has_traceback(text: str) -> bool:
    """Whether `text` holds a traceback (Python's, or a stack frame line): _TRACEBACK.search."""
    return _TRACEBACK_HEAD in text or ("(" in text and _STACK_FRAME.search(text) is not None)


def names_a_file(text: str) -> bool:
    """Whether `text` names a source or docs file: _FILE_PATH.search, run only from the run of
    path characters before the first extension (no match can start earlier)."""
    found = _EXTENSION.search(text)
    if found is None:
        return False
    start = found.start()
    while start and (text[start - 1].isalnum() or text[start - 1] in "_./-"):
        start -= 1
    return _FILE_PATH.search(text, start) is not None


def kind_step(kind: str | None) -> int:
    """The step of the ramp a kind of work sits on: 3 for a feature or performance work, 2 for a
    bug fix, 1 for docs, tests, typing, examples, tooling and anything unrecognised."""
    if kind in HARDER_KINDS:
        return 3
    return 2 if kind == "bug fix" else 1


RAMP_NUDGE = 0.5  # steps an issue moves per unit of difficulty above or below neutral


def ramp_fits(steps: np.ndarray, difficulties: np.ndarray, target: int) -> np.ndarray:
    """How well each issue sits at the learner's target step: 1 on it, 0 a step away, -1 two.

    An issue's place is its kind's step (kind_step) moved by how hard it looks, at most a
    quarter step either way (a bug fix labelled for beginners sits a little below step 2),
    kept within steps 1..3: the kind of work decides the step, the difficulty only nudges.
    """
    nudge = RAMP_NUDGE * (np.asarray(difficulties, dtype=float) - NEUTRAL)
    place = np.asarray(steps, dtype=float) + nudge
    return 1.0 - np.abs(np.clip(place, 1.0, float(TOP_STEP)) - target)


RAMP_REASON_FIT = 0.5  # an issue this close to the target step gets a ramp reason


def ramp_reason(level: Level | None, kind: str | None, fit: float, repo: str) -> str | None:
    """Why an issue fits the learner's step: 'a step up from your merged docs PR in owner/name',
    'an easier one, as you asked'; None when the term is off or the issue is off target."""
    if level is None or not level.active or fit < RAMP_REASON_FIT:
        return None
    if level.pace == "easier":
        return "an easier one, as you asked"
    if level.pace == "harder" and level.target > level.ready:
        return "a harder one, as you asked"
    basis = level.basis_in(repo)
    if basis is None:
        return None
    step = kind_step(kind)
    if step > basis.step:
        return f"a step up from {basis.phrase}"
    # at the same step only when the learner is not past it (work under way, or the top step)
    return f"the same step as {basis.phrase}" if step == basis.step == level.ready else None


def kinds_asked(profile_words: str, task_types: Iterable[tuple[str, re.Pattern]]) -> frozenset[str]:
    """Kinds of work a learner's own words ask for ("technical writing, tutorials" -> docs task).

    `task_types` is matcher.ranking.TASK_TYPES, the patterns that name an issue's kind.
    """
    return frozenset(name for name, pattern in task_types if pattern.search(profile_words))


def task_fit(kind: str | None, asked: frozenset[str]) -> float:
    """+1 when the issue is a kind of work the learner asks for; -1 when it is generic work
    (docs, tests, typing, CI) they do not ask for; 0 otherwise."""
    if kind in asked:
        return 1.0
    return -1.0 if kind in GENERIC_KINDS else 0.0


def task_fit_reason(kind: str | None, asked: frozenset[str]) -> str | None:
    """'a docs task, the kind of work you asked for' when the kinds agree."""
    if not kind or kind not in asked:
        return None
    return f"{_KIND_PHRASES.get(kind, f'a {kind}')}, the kind of work you asked for"


def difficulty_penalty(values: np.ndarray) -> np.ndarray:
    """A tuning term (bench/tune_ranking.py): above-neutral difficulty costs, below earns."""
    return np.asarray(values, dtype=float) - NEUTRAL


def keep_hard_below_beginner(
    score: np.ndarray,
    fit: np.ndarray,
    hard: np.ndarray,
    beginner: np.ndarray,
    margin: float = 0.3,
    eligible: np.ndarray | None = None,
) -> np.ndarray:
    """Scores where no hard-labelled issue outranks a comparable beginner-labelled one.

    `fit` is how well each issue fits the learner before labels (dense + lexical terms);
    `hard` and `beginner` are booleans per issue (an issue with both counts as beginner).
    A beginner issue b is comparable to a hard issue h when fit[b] >= fit[h] - margin; then
    h is moved just below the lowest-scoring such b. Other scores are unchanged. Only `eligible`
    beginner issues count (those the list may show: open, not dismissed, not taken); default all.
    """
    score = np.asarray(score, dtype=float).copy()
    hard_only = np.asarray(hard, dtype=bool) & ~np.asarray(beginner, dtype=bool)
    shown = np.ones(len(score), dtype=bool) if eligible is None else np.asarray(eligible, bool)
    easy = np.flatnonzero(np.asarray(beginner, dtype=bool) & shown)
    if not hard_only.any() or not len(easy):
        return score
    fit = np.asarray(fit, dtype=float)
    hard_rows = np.flatnonzero(hard_only)
    hold_below_beginner(score, hard_rows, fit[hard_rows], fit[easy], score[easy], margin)
    return score


def hold_below_beginner(
    score: np.ndarray,
    hard_rows: np.ndarray,
    hard_fit: np.ndarray,
    easy_fit: np.ndarray,
    easy_score: np.ndarray,
    margin: float,
) -> None:
    """keep_hard_below_beginner's arithmetic, in place on score[hard_rows], given the hard issues'
    fit and the counted beginner issues' fit and score (an inf score counts for nothing)."""
    # Sort the few hard issues' thresholds, not the many beginner issues: a beginner issue counts
    # for every threshold at or below its fit, i.e. for the first `bucket` sorted thresholds.
    thresholds = hard_fit - margin
    order = np.argsort(thresholds)
    # a beginner issue below every threshold (bucket 0) counts for none: most, once hard issues
    # reach a learner's top, so they are left out before the search
    counted = easy_fit >= thresholds[order[0]]
    bucket = np.searchsorted(thresholds[order], easy_fit[counted], side="right")
    lowest = np.full(len(hard_rows) + 1, np.inf)
    np.minimum.at(lowest, bucket, easy_score[counted])
    # below[j]: the lowest beginner score among those whose fit reaches sorted threshold j
    below = np.empty(len(hard_rows))
    below[order] = np.minimum.accumulate(lowest[::-1])[::-1][1:]
    above = score[hard_rows] >= below  # never true where no beginner issue qualifies (inf)
    score[hard_rows[above]] = np.nextafter(below[above], -np.inf) - 1e-9


# --- the welcoming signal (issue 13): how a repository treats first-time contributors -------

WELCOME_CONFIDENT_AT = 5  # newcomers' PRs for the merge rate to count in full
DORMANT_DAYS = 180  # no merge at all for this long: nobody would merge a newcomer's PR


def welcoming(issue: Issue) -> float:
    """In [-1, 1]: + for a repository that merges newcomers' PRs, - for one that leaves them
    unmerged or merges nothing at all; 0 when unmeasured (no figures, or no newcomer PRs)."""
    welcome = issue.welcome
    if welcome is None:
        return 0.0
    idle = welcome.days_since_merge
    if idle is not None and idle > DORMANT_DAYS:
        return -1.0
    if welcome.newcomer_prs == 0:
        return 0.0
    rate = welcome.newcomer_merged / welcome.newcomer_prs
    confidence = min(welcome.newcomer_prs, WELCOME_CONFIDENT_AT) / WELCOME_CONFIDENT_AT
    return (2.0 * rate - 1.0) * confidence


def _days(value: float) -> str:
    days = max(round(value), 1)
    return f"{days} day{'s' if days != 1 else ''}"


def welcoming_reason(issue: Issue) -> str | None:
    """What the welcoming figures say, in words a learner can check on the repository."""
    welcome = issue.welcome
    if welcome is None:
        return None
    idle = welcome.days_since_merge
    if idle is not None and idle > DORMANT_DAYS:
        return f"nothing merged in {issue.repo} for {_days(idle)}"
    if welcome.newcomer_prs == 0:
        return None
    months = round(welcome.window_days / 30.4)
    said = (
        f"merged {welcome.newcomer_merged} of {welcome.newcomer_prs} first-time contributors' "
        f"PRs in the last {months} months"
    )
    if welcome.median_merge_days is not None:
        said += f" (median {_days(welcome.median_merge_days)} to merge)"
    if welcome.median_reply_days is not None:
        said += f", first reply to a new issue in about {_days(welcome.median_reply_days)}"
    return said


# --- honest warnings about activity (issue 13): abandoned issues, unanswered comments ----------


def days_idle(issue: Issue, now: datetime) -> float | None:
    """Days since the issue's last known activity (updated_at); None when unknown.

    Never from created_at alone: a snapshot without updated_at says nothing about activity.
    """
    return days_between(issue.updated_at, now)


def days_unanswered(issue: Issue, now: datetime) -> float | None:
    """Days the oldest unanswered comment has waited for a maintainer; None when none waits."""
    return days_between(issue.unanswered_since, now) if issue.unanswered_comments else None


def days_between(when: datetime | None, now: datetime) -> float | None:
    """Days from `when` to `now` (0 for a future time); None when unknown. The scorer's terms
    reproduce this arithmetic exactly over arrays (matcher.ranking.terms._days_before)."""
    return None if when is None else max((now - when).total_seconds() / 86400, 0.0)


def _overdue(days: np.ndarray, after: float) -> np.ndarray:
    """0 before `after` days (and when unknown, NaN); 0.5 at `after`, rising to 1 at twice it."""
    days = np.asarray(days, dtype=float)
    late = np.nan_to_num(days, nan=-1.0) >= after
    return np.where(late, np.minimum(0.5 + 0.5 * (np.nan_to_num(days) - after) / after, 1.0), 0.0)


def neglect(
    idle: np.ndarray,
    waiting: np.ndarray,
    stale_after_days: float,
    unanswered_after_days: float,
    marked: np.ndarray | None = None,
) -> np.ndarray:
    """The ranking term, 0..1 per issue: the larger of 'no activity for stale_after_days' and
    'a comment waits for a maintainer for unanswered_after_days', each 0.5 when just due and 1 at
    twice the time. `idle` and `waiting` are days (days_idle, days_unanswered), NaN when unknown:
    unknown is neutral (0). A `marked` issue (a stale label: its bot's pings
    keep updatedAt fresh) counts in full."""
    overdue = np.maximum(_overdue(idle, stale_after_days), _overdue(waiting, unanswered_after_days))
    return overdue if marked is None else np.where(np.asarray(marked, dtype=bool), 1.0, overdue)


def _span(days: float) -> str:
    """'45 days', '14 months', '3 years': how long, in words a learner checks on the issue page."""
    if days < 60:
        whole, unit = max(int(days), 1), "day"
    elif days < 730:
        whole, unit = int(days // 30.4), "month"
    else:
        whole, unit = int(days // 365.25), "year"
    return f"{whole} {unit}{'s' if whole != 1 else ''}"


def stale_label_reason(issue: Issue, labels: Labels) -> str | None:
    """'labelled 'stale': the project marked it inactive' when a stale label says so."""
    name = labels.stale_label(issue.labels)
    return f"labelled '{name}': the project marked it inactive" if name else None


def stale_reason(issue: Issue, now: datetime, stale_after_days: float) -> str | None:
    """'no activity for 14 months: it may be abandoned' once the issue is idle that long."""
    idle = days_idle(issue, now)
    if idle is None or idle < stale_after_days:
        return None
    return f"no activity for {_span(idle)}: it may be abandoned"


def unanswered_reason(issue: Issue, now: datetime, unanswered_after_days: float) -> str | None:
    """'2 comments waiting for a maintainer's answer for 3 months' once they waited that long."""
    waiting = days_unanswered(issue, now)
    if waiting is None or waiting < unanswered_after_days:
        return None
    count = issue.unanswered_comments
    return (
        f"{count} comment{'s' if count != 1 else ''} waiting for a maintainer's answer"
        f" for {_span(waiting)}"
    )
