"""The difficulty ramp of a learner's merged work: docs, tests and small fixes, then bug fixes,
then features. Pure functions over titles and labels.

The kind of a pull request (or an issue) is `matcher.ranking.task_type`, the same detector the
ranking's reasons use; matcher.signals says which kinds ask more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from matcher.errors import ProfileError
from matcher.models import PACES, Contribution, Evidence, Issue, Level
from matcher.ranking import task_type
from matcher.signals import NEUTRAL, kind_step, ramp_fits, ramp_reason
from matcher.store.db import as_utc

# Step 1..3 of the ramp, as a learner reads it.
STAGES = ("docs, tests and small fixes", "bug fixes", "features")
# A kind of work at each step, to name the work to look for next.
STEP_KINDS = ("docs task", "bug fix", "feature")
# What a merged pull request of a kind is called in a sentence ("your merged docs PR").
_PR_NOUNS = {
    "docs task": "docs PR",
    "tests task": "tests PR",
    "example": "example PR",
    "typing": "type hints PR",
    "CI / tooling": "tooling PR",
    "bug fix": "bug fix",
    "performance": "performance PR",
    "feature": "feature PR",
}
# What an issue of a kind is called in a sentence ("the bug fix you are working on").
_ISSUE_NOUNS = {
    "docs task": "docs issue",
    "tests task": "tests issue",
    "example": "example",
    "typing": "type hints issue",
    "CI / tooling": "tooling issue",
    "bug fix": "bug fix",
    "performance": "performance issue",
    "feature": "feature",
}


def kind_of(title: str, labels: Iterable[str] = ()) -> str | None:
    """The kind of work ('docs task', 'bug fix', 'feature', ...) from labels, then the title."""
    return task_type(Issue(url="", repo="", number=0, title=title, labels=tuple(labels)))


def pr_noun(kind: str | None) -> str:
    """'docs PR', 'bug fix', 'feature PR'; 'PR' when the kind is unknown."""
    return _PR_NOUNS.get(kind or "", "PR")


@dataclass(frozen=True)
class Rung:
    """One counted merged pull request on the ramp."""

    url: str
    repo: str
    kind: str | None
    step: int


@dataclass(frozen=True)
class Ramp:
    """How far a learner is along the ramp: the highest step of their merged work, and how many
    merged pull requests they have at each step."""

    step: int  # 0 with no merged pull request
    counts: tuple[int, int, int]
    rungs: tuple[Rung, ...] = ()  # newest first

    @property
    def stage(self) -> str | None:
        """The name of the step reached, None before the first merge."""
        return STAGES[self.step - 1] if self.step else None


def ramp_of(contributions: Sequence[Contribution]) -> Ramp:
    """The ramp of the counted (not reverted) merged pull requests, newest first in `rungs`."""
    counted = sorted(
        (c for c in contributions if c.counts),
        key=lambda c: (as_utc(c.merged_at), c.url),
        reverse=True,
    )
    rungs = []
    for c in counted:
        kind = kind_of(c.title, c.labels)
        rungs.append(Rung(c.url, c.repo, kind, kind_step(kind)))
    counts = tuple(sum(1 for r in rungs if r.step == n) for n in (1, 2, 3))
    step = max((r.step for r in rungs), default=0)
    return Ramp(step, (counts[0], counts[1], counts[2]), tuple(rungs))


def validate_pace(text: str) -> str:
    """'easier', 'auto' or 'harder' (any case); ProfileError saying the choices otherwise."""
    pace = text.strip().lower()
    if pace not in PACES:
        raise ProfileError(f"pace must be one of {', '.join(PACES)} (got {text.strip()[:20]!r})")
    return pace


def level_of(
    contributions: Sequence[Contribution], working: Sequence[Issue] = (), pace: str = "auto"
) -> Level:
    """The step a learner is ready for, from their counted merged pull requests and the issues
    they are working on (newest first), and the pace they asked for.

    A merge at a step shows the learner ready for the next one; an issue under way shows only
    its own step (less than a merge). With neither, step 1. `basis` holds the work that sets
    the step, merges first.
    """
    evidence = [
        Evidence(r.repo, r.step, f"your merged {pr_noun(r.kind)} in {r.repo}", merged=True)
        for r in ramp_of(contributions).rungs
    ]
    for issue in working:
        kind = task_type(issue)
        noun = _ISSUE_NOUNS.get(kind or "", "issue")
        phrase = f"the {noun} you are working on in {issue.repo}"
        evidence.append(Evidence(issue.repo, kind_step(kind), phrase, merged=False))
    ready = max((e.ready_for for e in evidence), default=1)
    basis = tuple(e for e in evidence if e.ready_for == ready)
    return Level(ready, pace, basis)


def off_target(level: Level, step: int) -> int:
    """How many steps work at `step` is from where the ranking aims the learner; 0 everywhere
    while the ramp term is off (a newcomer on the 'auto' pace)."""
    return abs(step - level.target) if level.active else 0


def step_reason(level: Level, kind: str | None, repo: str) -> str | None:
    """The ranking's ramp reason for work of a kind in `repo` ('a step up from your merged docs
    PR in owner/name', 'an easier one, as you asked'): signals.ramp_reason at the kind's step,
    its difficulty taken as neutral (the portfolio has no label vocabulary to nudge it)."""
    fit = ramp_fits(np.array([kind_step(kind)]), np.array([NEUTRAL]), level.target)[0]
    return ramp_reason(level, kind, float(fit), repo)


def level_text(level: Level) -> str:
    """'pace auto: aiming at bug fixes (step 2 of 3)' and, on a second line, why: 'ready for
    bug fixes from your merged docs PR in owner/name' (or that no work is merged yet)."""
    target = f"{STAGES[level.target - 1]} (step {level.target} of {len(STAGES)})"
    aim = f"pace {level.pace}: aiming at {target}"
    basis = level.basis_in()
    if basis is None:
        return f"{aim}\nno merged pull request or issue under way yet"
    return f"{aim}\nready for {STAGES[level.ready - 1]} from {basis.phrase}"
