"""Plain data records shared by every layer: issues, profiles, matches, learners, communities."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from matcher.niches import niche_name

if TYPE_CHECKING:
    from matcher.digest import Schedule

# GitHub's rule for a login: 1-39 letters, digits or single hyphens, no hyphen at either end.
GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
GITHUB_LOGIN_RULE = "1-39 letters, digits or single hyphens, not starting or ending with a hyphen"
EMBEDDED_BODY = 2000  # characters of an issue's body in its embedding text


def parse_github_login(text: str) -> str | None:
    """The login in what a person typed ('ada', '@ada', 'https://github.com/ada'), or None when
    it breaks GitHub's rule (GITHUB_LOGIN): the one check both /profile and /github link use."""
    login = text.strip().removeprefix("@").removeprefix("https://github.com/").strip("/")
    return login if GITHUB_LOGIN.match(login) else None


@dataclass(frozen=True)
class Welcome:
    """How a repository treats newcomers (issue 13): its recent pull requests by first-time
    contributors, how many were merged and how fast, and how long ago anything was merged.

    Measured at `fetched_at`; the ranking reads the figures as of then, so it stays a pure
    function of stored data (refreshed weekly, a week's drift does not change the picture).
    """

    newcomer_prs: int  # first-time contributors' PRs opened in the window
    newcomer_merged: int
    median_merge_days: float | None = None  # of the merged ones, opened -> merged
    last_merged_at: datetime | None = None  # any PR of the repository
    fetched_at: datetime | None = None
    window_days: int = 182
    median_reply_days: float | None = None  # new issues: until a maintainer first commented

    @property
    def days_since_merge(self) -> float | None:
        if self.last_merged_at is None or self.fetched_at is None:
            return None
        return max((self.fetched_at - self.last_merged_at).total_seconds() / 86400, 0.0)


@dataclass(frozen=True)
class Issue:
    """One GitHub issue with the signals the ranking uses."""

    url: str
    repo: str
    number: int
    title: str
    body: str = ""
    labels: tuple[str, ...] = ()
    state: str = "open"
    language: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    comments: int = 0
    assignees: tuple[str, ...] = ()
    linked_prs: tuple[str, ...] = ()
    claimed: bool = False
    stars: int | None = None
    topics: tuple[str, ...] = ()
    niches: tuple[str, ...] = ()
    welcome: Welcome | None = None  # the repository's, from the repo_welcome table
    # The last comments from people who are not maintainers (bots aside) that no maintainer
    # answered after, and when the oldest of them was posted (matcher.github.parse.unanswered).
    unanswered_comments: int = 0
    unanswered_since: datetime | None = None
    demo: bool = False  # invented for a demo (the bundled snapshot): never shown as real

    @property
    def is_open(self) -> bool:
        return self.state.lower() == "open"

    @property
    def is_taken(self) -> bool:
        """Someone already works on it: assigned, a linked pull request, or a claim comment."""
        return bool(self.assignees or self.linked_prs or self.claimed)

    def embedding_text(self) -> str:
        """The text that represents the issue for embedding and lexical matching.

        The repository's niches are named in words ("computer vision"), so an issue in a library
        whose own text never says what field it serves still meets a learner's niche.
        """
        parts = [self.repo.replace("/", " "), self.title, " ".join(self.labels)]
        if self.topics:
            parts.append(" ".join(self.topics))
        if self.niches:
            parts.append(", ".join(niche_name(n) for n in self.niches))
        parts.append(self.body[:EMBEDDED_BODY])
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Profile:
    """What a learner knows and wants to work on."""

    skills: str
    niche: str = ""
    languages: str = ""
    id: str = "me"

    def query_text(self) -> str:
        return ". ".join(p for p in (self.skills, self.niche, self.languages) if p.strip())


@dataclass
class Match:
    """An issue ranked for a learner, with the reasons a person can read."""

    issue: Issue
    score: float
    reasons: list[str] = field(default_factory=list)
    components: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        i = self.issue
        return {
            "url": i.url,
            "repo": i.repo,
            "number": i.number,
            "title": i.title,
            "labels": list(i.labels),
            "score": round(self.score, 4),
            "reasons": self.reasons,
            "updated_at": i.updated_at.isoformat() if i.updated_at else None,
            "demo": i.demo,
        }


def text_hash(text: str) -> str:
    """Stable key for a text, so an unchanged text is never embedded twice."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Feedback:
    """What a learner (and their community) said about issues; the ranking honours it.

    dismissed: issues the learner marked "Not for me": never shown again, similar ones sink.
    liked: issues marked "Interested" or "I'm working on it": similar ones rise.
    hidden: issues not to show now (already seen, or claimed by someone else in the server).
    """

    dismissed: frozenset[str] = frozenset()
    liked: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()


# The pace a learner asks for on the difficulty ramp: a step below or above where they stand.
PACES = ("easier", "auto", "harder")
_PACE_SHIFT = {"easier": -1, "auto": 0, "harder": 1}
TOP_STEP = 3  # steps of the ramp: 1 docs, tests and small fixes; 2 bug fixes; 3 features


@dataclass(frozen=True)
class Evidence:
    """One piece of a learner's work that places them on the ramp (matcher.ramp.level_of)."""

    repo: str
    step: int  # 1..3, the step of the work
    phrase: str  # how a reason names it: "your merged docs PR in huggingface/transformers"
    merged: bool  # a merged pull request; else an issue they marked "I'm working on it"

    @property
    def ready_for(self) -> int:
        """A merge shows the step is done (ready for the next); work under way shows only the
        step itself."""
        return min(self.step + 1, TOP_STEP) if self.merged else self.step


@dataclass(frozen=True)
class Level:
    """Where a learner stands on the difficulty ramp, and the pace they asked for.

    `ready` is the step (1..3) their work shows them ready for; `basis` the work that shows it,
    newest first. The ranking aims at `target`; a learner at step 1 on the 'auto' pace is
    ranked as every newcomer is (the ramp term is off).
    """

    ready: int = 1
    pace: str = "auto"
    basis: tuple[Evidence, ...] = ()

    @property
    def target(self) -> int:
        return min(max(self.ready + _PACE_SHIFT.get(self.pace, 0), 1), TOP_STEP)

    @property
    def active(self) -> bool:
        return _PACE_SHIFT.get(self.pace, 0) != 0 or self.ready > 1

    def basis_in(self, repo: str | None = None) -> Evidence | None:
        """The newest work behind the level, in `repo` when there is such work."""
        same = [e for e in self.basis if repo is not None and e.repo.lower() == repo.lower()]
        return next(iter(same or self.basis), None)


# ---------------------------------------------------------------- learners and communities


@dataclass(frozen=True)
class Learner:
    """A learner as stored; `profile` is what the engine ranks for."""

    learner_id: str
    skills: str = ""
    niche: str = ""
    languages: str = ""
    home_guild_id: str | None = None
    digest_enabled: bool = False
    digest_since: datetime | None = None
    digest_weekday: int = 0
    digest_hour: int = 9
    timezone: str = "UTC"
    pending_notice: str | None = None
    pace: str = "auto"  # PACES: where the suggestions aim on the difficulty ramp

    @property
    def profile(self) -> Profile:
        return Profile(
            skills=self.skills, niche=self.niche, languages=self.languages, id=self.learner_id
        )

    @property
    def schedule(self) -> Schedule:
        from matcher.digest import Schedule  # the schedule rules live with the digest

        return Schedule(self.digest_weekday, self.digest_hour, self.timezone)


@dataclass(frozen=True)
class GuildConfig:
    """A community's (Discord server's) settings: digest fallback channel and focus."""

    guild_id: str
    digest_channel_id: str | None = None
    focus_repos: tuple[str, ...] = ()
    focus_niches: tuple[str, ...] = ()

    @property
    def has_focus(self) -> bool:
        return bool(self.focus_repos or self.focus_niches)


@dataclass(frozen=True)
class Suggestion:
    """An issue shown to a learner, and the learner's latest answer to it."""

    learner_id: str
    issue_url: str
    suggested_at: datetime
    via: str
    status: str
    status_at: datetime | None = None
    guild_id: str | None = None
    digested_at: datetime | None = None


@dataclass(frozen=True)
class Delivery:
    """One learner's digest for one week: reserved ('sending'), then how it went."""

    learner_id: str
    week: str
    status: str
    sent_at: datetime
    detail: str | None = None


# ---------------------------------------------------------------- GitHub identities and merges


@dataclass(frozen=True)
class Contribution:
    """One merged pull request, as GitHub described it and as the store keeps it."""

    url: str
    repo: str
    number: int
    title: str
    merged_at: datetime
    author_id: int | None = None
    author_login: str = ""
    additions: int | None = None
    deletions: int | None = None
    labels: tuple[str, ...] = ()
    closes: tuple[str, ...] = ()
    repo_stars: int | None = None
    repo_language: str | None = None
    repo_topics: tuple[str, ...] = ()
    reverted: bool = False
    reverted_by: str | None = None
    # False when the repository was private or deleted and only the search result was seen
    details: bool = True

    @property
    def counts(self) -> bool:
        """Whether it counts as evidence of a merge (a reverted merge does not)."""
        return not self.reverted


@dataclass(frozen=True)
class LoginClaim:
    """A learner's pending (unproven) claim to a GitHub login: the hash of the code issued for it.

    Not an issue claim ("I'm working on it"), which lives in the suggestions store.
    """

    learner_id: str
    login: str
    code_hash: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Identity:
    """A learner's GitHub login, verified or not, and a pending claim to another login.

    Without a verified login, `login`/`code_hash`/`code_expires_at` are the learner's claim. Once
    `login` is verified it stays verified while the learner claims another login: that claim is
    held beside it in `pending_*` until it is proven, and only then replaces `login`.
    """

    learner_id: str
    login: str
    github_id: int | None = None
    verified: bool = False
    verified_at: datetime | None = None
    code_hash: str | None = None
    code_expires_at: datetime | None = None
    pending_login: str | None = None
    pending_code_hash: str | None = None
    pending_expires_at: datetime | None = None

    @property
    def claim(self) -> LoginClaim | None:
        """The login this learner is trying to prove, if any."""
        if not self.verified and self.code_hash:
            return LoginClaim(self.learner_id, self.login, self.code_hash, self.code_expires_at)
        if self.pending_login and self.pending_code_hash:
            return LoginClaim(
                self.learner_id, self.pending_login, self.pending_code_hash, self.pending_expires_at
            )
        return None


@dataclass(frozen=True)
class Attribution:
    """A merged pull request that closed an issue suggested to the learner."""

    contribution_url: str
    learner_id: str
    issue_url: str
    suggested_at: datetime | None
    merged_at: datetime | None = None
