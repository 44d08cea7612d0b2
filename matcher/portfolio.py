"""Portfolio: verify a learner's GitHub login, track their merged pull requests, summarise them.

I/O (GitHub through `PullsClient`, the store) is in link/verify/refresh/attribute/load_summary;
`summarize`, `streaks` and `funnel_counts` are pure and take plain records.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from matcher.catalog import normalize_label
from matcher.errors import GitHubNotFoundError, IdentityError, MatcherError, VerificationError
from matcher.github.identity import code_matches, find_codes, hash_code, new_code
from matcher.github.pulls import GitHubUser, PullsClient, normalize_issue_url
from matcher.models import (
    GITHUB_LOGIN_RULE,
    Attribution,
    Contribution,
    Identity,
    Issue,
    Learner,
    Level,
    parse_github_login,
)
from matcher.niches import join_names, niche_name, pull_niches, repo_niches
from matcher.operations.levels import level_for
from matcher.ramp import (
    STAGES,
    STEP_KINDS,
    Ramp,
    kind_of,
    level_of,
    off_target,
    ramp_of,
    step_reason,
)
from matcher.signals import kind_step
from matcher.store import portfolio as store
from matcher.store.db import Database, as_utc
from matcher.store.learners import get_learner

log = logging.getLogger(__name__)

CODE_TTL = timedelta(hours=24)
# labels that say how an issue was triaged, not what skill it needed
_NOISE_LABELS = {
    "good first issue",
    "help wanted",
    "first timers only",
    "beginner",
    "easy",
    "triaged",
    "needs triage",
    "cla signed",
    "merged",
    "ready to merge",
    "lgtm",
    "approved",
}


def check_login(login: str) -> str:
    """A syntactically valid GitHub login, or IdentityError saying why not."""
    parsed = parse_github_login(login or "")
    if parsed is None:
        raise IdentityError(
            f"'{(login or '').strip()[:40]}' is not a GitHub login: {GITHUB_LOGIN_RULE}"
        )
    return parsed


# --- verification --------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkResult:
    login: str
    code: str
    expires_at: datetime
    # the learner's verified login, which stays their evidence until this one is verified
    keeps: str | None = None

    @property
    def instructions(self) -> str:
        text = (
            f"Put {self.code} in your GitHub profile bio (https://github.com/settings/profile) "
            f"or in a public gist of {self.login} (https://gist.github.com), then verify. "
            f"The code expires at {self.expires_at:%Y-%m-%d %H:%M} UTC; remove it once verified."
        )
        if self.keeps:
            text += (
                f" Your verified login {self.keeps} stays linked until {self.login} is verified, "
                "then it is replaced."
            )
        return text


def link(
    db: Database, learner_id: str, login: str, client: PullsClient | None = None
) -> LinkResult:
    """Start linking a login to a learner: issue a one-time code (only its hash is stored).

    A learner who already has another verified login keeps it until this one is verified.
    With a client, an unknown login is refused now rather than at verification.
    """
    login = check_login(login)
    owner = store.verified_identity(db, login)
    if owner is not None and owner.learner_id != str(learner_id):
        raise IdentityError(f"GitHub login {login} is already verified by another learner")
    if owner is not None:
        # a new code would turn the verified login back into an unproven claim
        raise IdentityError(
            f"GitHub login {owner.login} is already verified for learner {owner.learner_id}; "
            "nothing to do"
        )
    if client is not None:
        try:
            login = client.user(login).login
        except GitHubNotFoundError:
            raise GitHubNotFoundError(f"GitHub has no user '{login}': check the spelling") from None
    code = new_code()
    expires = datetime.now(UTC) + CODE_TTL
    identity = store.save_claim(db, str(learner_id), login, hash_code(code), expires)
    keeps = identity.login if identity.verified else None
    return LinkResult(login=login, code=code, expires_at=expires, keeps=keeps)


def verify(
    db: Database, client: PullsClient, login: str, learner_id: str | None = None
) -> Identity:
    """Check GitHub for the code of a pending claim; on success the login becomes evidence.

    A learner's earlier verified login is replaced only here, once the new one is proven: a wrong
    or expired code leaves it as it was.
    """
    login = check_login(login)

    def wanted(learner: str) -> bool:
        return learner_id is None or learner == str(learner_id)

    owner = store.verified_identity(db, login)
    pending = [c for c in store.claims_for_login(db, login) if wanted(c.learner_id)]
    if not pending:
        if owner is not None and wanted(owner.learner_id):
            return owner
        raise IdentityError(
            f"no learner has linked {login}: run `portfolio link {login} --learner ID` first"
        )
    now = datetime.now(UTC)
    live = [c for c in pending if c.expires_at is None or c.expires_at > now]
    if not live:
        raise VerificationError(f"the code for {login} expired: link it again to get a new one")
    try:
        user = client.user(login)
    except GitHubNotFoundError:
        raise GitHubNotFoundError(f"GitHub has no user '{login}' (renamed or deleted?)") from None
    sightings = find_codes(client, user, {c.code_hash for c in live if c.code_hash})
    for claim in live:
        seen = code_matches(sightings, claim.code_hash)
        if seen is not None:
            before = store.get_identity(db, claim.learner_id)
            identity = store.mark_verified(db, claim.learner_id, user.id, user.login)
            log.info(
                "%s verified for learner %s (code found in %s)%s",
                user.login,
                claim.learner_id,
                seen.where,
                f"; it replaces {before.login}"
                if before is not None and before.verified and before.github_id != user.id
                else "",
            )
            return identity
    if sightings:
        raise VerificationError(
            f"the code found on {login}'s profile is not the one issued; "
            "use the latest code you were given"
        )
    raise VerificationError(
        f"no verification code found in the bio or the newest public gists of {login}"
    )


# --- refresh -------------------------------------------------------------------------------


@dataclass
class RefreshReport:
    login: str
    github_id: int | None
    seen: int = 0
    added: list[Contribution] = field(default_factory=list)
    updated: int = 0
    reverted: list[str] = field(default_factory=list)
    attributed: list[Attribution] = field(default_factory=list)
    renamed_from: str | None = None
    since: date | None = None
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def message(self) -> str:
        plural = "s" if self.seen != 1 else ""
        parts = [
            f"{self.login}: {self.seen} merged pull request{plural} seen, {len(self.added)} new"
        ]
        if self.reverted:
            parts.append(f"{len(self.reverted)} newly marked reverted")
        if self.attributed:
            parts.append(f"{len(self.attributed)} linked to suggestions")
        if self.renamed_from:
            parts.append(f"renamed on GitHub from {self.renamed_from}")
        parts.append(f"{sum(self.requests.values())} GitHub requests")
        return "; ".join(parts)


def _resolve_user(db: Database, client: PullsClient, login: str) -> tuple[GitHubUser, str | None]:
    """The GitHub account for a login, following a rename through the stored user id."""
    known = store.identities_for_login(db, login)
    known_id = next((i.github_id for i in known if i.github_id is not None), None)
    if known_id is None:
        stored = store.load_contributions(db, login=login)
        known_id = next((c.author_id for c in stored if c.author_id is not None), None)
    try:
        user = client.user(login)
    except GitHubNotFoundError:
        user = None
    if user is not None and (known_id is None or user.id == known_id):
        return user, None
    if known_id is not None:
        current = client.user_by_id(known_id)
        if current is not None:
            store.rename_identity(db, known_id, current.login)
            log.warning("GitHub login %s is now %s; the portfolio follows it", login, current.login)
            return current, login
    raise GitHubNotFoundError(
        f"GitHub has no user '{login}' (renamed or deleted?); stored contributions are kept"
    )


def refresh(db: Database, client: PullsClient, login: str, *, full: bool = False) -> RefreshReport:
    """Fetch merged pull requests merged since the last refresh; store each once; flag reverts.

    A verified login also gets its contributions attributed to the suggestions that led to them.
    """
    login = check_login(login)
    before = dict(client.requests.by_kind)
    user, renamed_from = _resolve_user(db, client, login)
    key = store.author_key(user.id, user.login)
    watermark = None if full else store.get_watermark(db, key)
    since = watermark.date() if watermark else None  # day granularity; the overlap is deduplicated
    report = RefreshReport(
        login=user.login, github_id=user.id, renamed_from=renamed_from, since=since
    )

    hits = client.merged_pulls(user.login, since)
    report.seen = len(hits)
    known = store.known_urls(db, (h.url for h in hits))
    fresh = client.complete([h for h in hits if h.url not in known])

    stored = store.load_contributions(db, author_id=user.id)
    repos = {c.repo for c in stored} | {c.repo for c in fresh}
    earliest = min((c.merged_at for c in [*stored, *fresh]), default=None)
    revert_since = since or (earliest.date() if earliest else None)
    # the learner's own revert pull requests (seen in the search) count too
    reverted = {**client.reverts_seen, **(client.reverts(repos, revert_since) if repos else {})}

    def flag(c: Contribution) -> Contribution:
        by = reverted.get(normalize_issue_url(c.url))
        return replace(c, reverted=True, reverted_by=by) if by and by != c.url else c

    fresh = [flag(c) for c in fresh]
    counts = store.add_contributions(db, fresh)
    report.added = [c for c in fresh if c.url in set(counts.added_urls)]
    report.updated = counts.updated
    for c in stored:
        by = reverted.get(normalize_issue_url(c.url))
        if by and by != c.url and store.mark_reverted(db, c.url, by):
            report.reverted.append(c.url)
    report.reverted.extend(c.url for c in report.added if c.reverted)

    latest = max((c.merged_at for c in hits), default=None)
    store.set_watermark(db, key, user.login, latest)
    identity = store.verified_identity(db, user.login)
    if identity is not None and identity.github_id == user.id:
        report.attributed = attribute(db, identity)
    report.requests = {
        k: v - before.get(k, 0) for k, v in client.requests.by_kind.items() if v - before.get(k, 0)
    }
    log.info("%s", report.message)
    return report


# --- attribution ---------------------------------------------------------------------------


def attribute(db: Database, identity: Identity) -> list[Attribution]:
    """Link the learner's merged pull requests to suggestions of the issues they closed.

    A merge counts for a suggestion only when it happened after the suggestion was made.
    """
    if not identity.verified or identity.github_id is None:
        return []
    suggestions = {
        normalize_issue_url(s.issue_url): s for s in store.suggestions_of(db, identity.learner_id)
    }
    new: list[Attribution] = []
    for c in store.load_contributions(db, author_id=identity.github_id):
        for issue in c.closes:
            s = suggestions.get(normalize_issue_url(issue))
            if s is None:
                continue
            suggested_at = as_utc(s.suggested_at)
            if suggested_at is not None and c.merged_at < suggested_at:
                continue
            a = Attribution(c.url, identity.learner_id, s.issue_url, s.suggested_at, c.merged_at)
            if store.add_attribution(db, a):
                new.append(a)
    return new


@dataclass(frozen=True)
class Funnel:
    suggested: int = 0
    interested: int = 0
    working: int = 0
    merged: int = 0

    def rates(self) -> dict[str, float]:
        base = self.suggested or 1
        return {k: round(v / base, 4) for k, v in asdict(self).items()}


IssueKey = tuple[str, str]  # (learner id, normalised issue URL)


def funnel_counts(
    statuses: Iterable[tuple[IssueKey, str]], merged_issue_keys: set[IssueKey]
) -> Funnel:
    """Cumulative funnel from (issue key, status) pairs: merged => working => interested."""
    counts: Counter[str] = Counter()
    for key, status in statuses:
        merged = key in merged_issue_keys
        counts["suggested"] += 1
        counts["interested"] += merged or status in ("interested", "working")
        counts["working"] += merged or status == "working"
        counts["merged"] += merged
    return Funnel(**counts)


def funnel(
    db: Database, learner_id: str | None = None, *, contributions: Iterable[str] | None = None
) -> Funnel:
    """The suggestion-to-merge funnel of one learner, or of everyone.

    With `contributions` (pull request URLs), only merges among them count as merged.
    """
    suggestions = store.suggestions_of(db, learner_id)
    attributions = store.load_attributions(db, learner_id)
    if contributions is not None:
        keep = set(contributions)
        attributions = [a for a in attributions if a.contribution_url in keep]
    merged = {(a.learner_id, normalize_issue_url(a.issue_url)) for a in attributions}
    pairs = [((str(s.learner_id), normalize_issue_url(s.issue_url)), s.status) for s in suggestions]
    return funnel_counts(pairs, merged)


# --- summary (pure) ------------------------------------------------------------------------


@dataclass(frozen=True)
class RepoStat:
    repo: str
    prs: int
    additions: int
    deletions: int
    stars: int | None
    language: str | None
    niches: tuple[str, ...] = ()  # names, as `niche_name` gives them
    own: bool = False  # the learner's own repository (its owner is the login), counted apart


@dataclass(frozen=True)
class Entry:
    """One contribution as the summary shows it, with the suggestion that led to it."""

    contribution: Contribution
    suggested_at: datetime | None = None
    suggested_issue: str | None = None
    niches: tuple[str, ...] = ()  # names of the niches this pull request evidences

    @property
    def size(self) -> int:
        return (self.contribution.additions or 0) + (self.contribution.deletions or 0)


@dataclass(frozen=True)
class NextIssue:
    """The issue a learner was last suggested and has not dismissed: what to do next."""

    url: str
    title: str | None = None
    repo: str | None = None
    step: int | None = None  # its step on the ramp, when the issue is stored
    # why it is the next step, as the ranking words it ('a step up from your merged docs PR in
    # huggingface/transformers', 'an easier one, as you asked'), when it says one
    step_up: str | None = None


class Audience(StrEnum):
    """Who a summary is for: the learner it belongs to, or any reader."""

    LEARNER = "learner"
    PUBLIC = "public"


@dataclass(frozen=True)
class Summary:
    """A login's portfolio. Its public part is what any reader may see: merged pull requests,
    repositories, niches, the headline and the chart. Its private part is the learner's own
    business: the ramp, the next step and suggested issue, what they are working on, the funnel,
    "suggested <date>" attributions and a pending login. `public()` drops the private part;
    `seen_by()` says which of the two a viewer gets."""

    login: str
    verified: bool
    generated_at: datetime
    merged: int
    reverted: int
    repos_count: int
    additions: int
    deletions: int
    first_merge: datetime | None
    latest_merge: datetime | None
    current_streak_weeks: int
    longest_streak_weeks: int
    active_weeks: int
    repos: tuple[RepoStat, ...]
    languages: tuple[tuple[str, int], ...]
    niches: tuple[tuple[str, int], ...]
    labels: tuple[tuple[str, int], ...]
    entries: tuple[Entry, ...]
    attributed: int = 0
    funnel: Funnel | None = None
    # a login the learner has claimed but not yet verified; this one stays theirs until then
    pending_login: str | None = None
    # the next suggested issue of the learner linked to the login, when known
    next_issue: NextIssue | None = None
    ramp: Ramp = Ramp(0, (0, 0, 0))
    # where the ranking aims the learner (matcher.ramp.level_of); the next step follows it
    level: Level = Level()
    # the learner whose private notes this summary holds (their Discord id), if any
    learner_id: str | None = None
    audience: Audience = Audience.LEARNER

    @property
    def is_public(self) -> bool:
        return self.audience is Audience.PUBLIC

    def public(self) -> Summary:
        """The public part only: every private field emptied, dates stated absolutely."""
        return replace(
            self,
            audience=Audience.PUBLIC,
            learner_id=None,
            funnel=None,
            pending_login=None,
            next_issue=None,
            ramp=Ramp(0, (0, 0, 0)),
            level=Level(),
            attributed=0,
            entries=tuple(
                replace(e, suggested_at=None, suggested_issue=None) for e in self.entries
            ),
        )

    def seen_by(self, viewer: str | None, *, published: bool = False) -> Summary:
        """What `viewer` (a learner id) may see: the whole summary only when it is theirs and is
        shown to them alone; anything published or shown to someone else is the public part."""
        mine = viewer is not None and self.learner_id is not None and viewer == self.learner_id
        return self if mine and not published else self.public()

    @property
    def profile_url(self) -> str:
        return f"https://github.com/{self.login}"

    @property
    def own_repos(self) -> tuple[RepoStat, ...]:
        """The learner's own repositories (the login owns them), counted apart."""
        return tuple(r for r in self.repos if r.own)

    @property
    def projects(self) -> tuple[RepoStat, ...]:
        """Other people's repositories: the open-source projects contributed to."""
        return tuple(r for r in self.repos if not r.own)

    @property
    def counted(self) -> tuple[Entry, ...]:
        """The entries that count (not reverted), newest first."""
        return tuple(e for e in self.entries if e.contribution.counts)

    @property
    def headline(self) -> str:
        return headline(self)

    @property
    def recency(self) -> str:
        """'latest 3 weeks ago' for the learner; 'latest merge 21 Apr 2026' on anything
        published, which must not go stale ('' with no merge)."""
        if self.latest_merge is None:
            return ""
        if self.is_public:
            return f"latest merge {calendar_day(self.latest_merge)}"
        return f"latest {ago(self.latest_merge, self.generated_at)}"


def _week(d: date) -> date:
    return d - timedelta(days=d.weekday())


def streaks(merge_days: Iterable[date], today: date) -> tuple[int, int, int]:
    """(current, longest, active) runs of consecutive ISO weeks with at least one merge.

    The current streak still counts when this week has no merge yet but last week had one.
    """
    weeks = sorted({_week(d) for d in merge_days})
    if not weeks:
        return 0, 0, 0
    longest = run = 1
    for prev, cur in zip(weeks, weeks[1:], strict=False):
        run = run + 1 if (cur - prev).days == 7 else 1
        longest = max(longest, run)
    current = 0
    this_week = _week(today)
    if weeks[-1] in (this_week, this_week - timedelta(days=7)):
        current = 1
        for prev, cur in zip(reversed(weeks[:-1]), reversed(weeks), strict=False):
            if (cur - prev).days != 7:
                break
            current += 1
    return current, longest, len(weeks)


def summarize(
    login: str,
    contributions: Iterable[Contribution],
    attributions: Iterable[Attribution] = (),
    *,
    verified: bool,
    niches_of: Callable[[str], Iterable[str]] = lambda repo: (),
    now: datetime | None = None,
    funnel: Funnel | None = None,
    pending_login: str | None = None,
    next_issue: NextIssue | None = None,
    level: Level | None = None,
    learner_id: str | None = None,
) -> Summary:
    """Totals, repositories, first/latest merge, weekly streaks and skills evidenced.

    `level` is the learner's level as the ranking reads it; without one, the level of these
    merged pull requests alone on the 'auto' pace. `learner_id` is the learner whose private
    notes (funnel, next issue, attributions) these are.
    """
    now = now or datetime.now(UTC)
    items = sorted(contributions, key=lambda c: (as_utc(c.merged_at), c.url))
    counted = [c for c in items if c.counts]
    by_url = {a.contribution_url: a for a in attributions}

    repo_stats: dict[str, list[Contribution]] = {}
    for c in counted:
        repo_stats.setdefault(c.repo, []).append(c)
    repos = sorted(
        (
            RepoStat(
                repo=r,
                prs=len(cs),
                additions=sum(c.additions or 0 for c in cs),
                deletions=sum(c.deletions or 0 for c in cs),
                stars=next((c.repo_stars for c in reversed(cs) if c.repo_stars is not None), None),
                language=next((c.repo_language for c in reversed(cs) if c.repo_language), None),
                own=owns(login, r),
            )
            for r, cs in repo_stats.items()
        ),
        key=lambda s: (-s.prs, -(s.stars or 0), s.repo.lower()),
    )
    languages = Counter(c.repo_language for c in counted if c.repo_language)
    niches: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    pr_niches = {c.url: _evidenced(c, niches_of) for c in items}
    repo_niche_names: dict[str, list[str]] = {}
    for c in counted:
        niches.update(pr_niches[c.url])
        for name in pr_niches[c.url]:
            if name not in repo_niche_names.setdefault(c.repo, []):
                repo_niche_names[c.repo].append(name)
        labels.update({normalize_label(x) for x in c.labels} - _NOISE_LABELS - {""})
    repos = [replace(r, niches=tuple(repo_niche_names.get(r.repo, ()))) for r in repos]
    current, longest, active = streaks((utc_date(c.merged_at) for c in counted), utc_date(now))
    entries = tuple(
        Entry(
            contribution=c,
            suggested_at=by_url[c.url].suggested_at if c.url in by_url else None,
            suggested_issue=by_url[c.url].issue_url if c.url in by_url else None,
            niches=pr_niches[c.url],
        )
        for c in reversed(items)
    )
    return Summary(
        login=login,
        verified=verified,
        generated_at=now,
        merged=len(counted),
        reverted=len(items) - len(counted),
        repos_count=len(repos),
        additions=sum(c.additions or 0 for c in counted),
        deletions=sum(c.deletions or 0 for c in counted),
        first_merge=as_utc(counted[0].merged_at) if counted else None,
        latest_merge=as_utc(counted[-1].merged_at) if counted else None,
        current_streak_weeks=current,
        longest_streak_weeks=longest,
        active_weeks=active,
        repos=tuple(repos),
        languages=tuple(_ranked(languages)),
        niches=tuple(_ranked(niches)),
        labels=tuple(_ranked(labels)[:15]),
        entries=entries,
        attributed=sum(1 for e in entries if e.suggested_at or e.suggested_issue),
        funnel=funnel,
        pending_login=pending_login,
        next_issue=next_issue,
        ramp=ramp_of(items),
        level=level or level_of(items),
        learner_id=learner_id,
    )


def owns(login: str, repo: str) -> bool:
    """Whether `repo` ('owner/name') belongs to the GitHub login (logins compare without case)."""
    return repo.split("/", 1)[0].lower() == login.lower()


def _evidenced(c: Contribution, niches_of: Callable[[str], Iterable[str]]) -> tuple[str, ...]:
    slugs = repo_niches(niches_of(c.repo), c.repo_topics)
    words = " ".join([c.title, *c.labels])
    return tuple(niche_name(s) for s in pull_niches(slugs, words))


def plural(n: int, word: str) -> str:
    """'1 project', '3 projects'."""
    return f"{n} {word if n == 1 else word + 's'}"


def utc_date(value: datetime) -> date:
    """The UTC calendar day of a time (a time without a zone is taken to be UTC)."""
    return (value if value.tzinfo is None else value.astimezone(UTC)).date()


def ago(when: datetime, now: datetime) -> str:
    """How long before `now`, as people say it: 'today', '3 weeks ago', '9 months ago'."""
    days = (utc_date(now) - utc_date(when)).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    if days < 60:
        return f"{days // 7} weeks ago"
    if days < 730:
        return f"{max(2, days * 12 // 365)} months ago"
    return f"{days // 365} years ago"


def month_year(when: datetime) -> str:
    """'March 2025'."""
    return f"{utc_date(when):%B %Y}"


def calendar_day(when: datetime) -> str:
    """'3 Feb 2026': the UTC day, no leading zero, the same in every locale."""
    d = utc_date(when)
    return f"{d.day} {d:%b %Y}"


def top_niches(summary: Summary, limit: int = 2) -> list[str]:
    """The niche names with the most merged pull requests, strongest first."""
    return [name for name, _ in summary.niches[:limit]]


def headline(summary: Summary) -> str:
    """One sentence: who, which niche(s), how much, how recent; their own repositories apart."""
    s = summary
    who = f"@{s.login}"
    if not s.merged or s.first_merge is None or s.latest_merge is None:
        return f"{who} has no merged pull requests yet."
    projects, own = s.projects, s.own_repos
    own_merged = sum(r.prs for r in own)
    own_where = f"their own {'repository' if len(own) == 1 else 'repositories'}"
    if not projects:
        return f"{who} has {plural(own_merged, 'merged pull request')} in {own_where}, {s.recency}."
    merged = s.merged - own_merged
    top = top_niches(s)
    noun = "project" if len(projects) == 1 else "projects"
    if top and all(set(r.niches) & set(top) for r in projects):
        where = f"{len(projects)} {join_names(top)} {noun}"
    elif top:
        where = f"{len(projects)} {noun} (mostly {join_names(top)})"
    else:
        where = f"{len(projects)} open-source {noun}"
    first = min(
        e.contribution.merged_at for e in s.counted if not owns(s.login, e.contribution.repo)
    )
    since = f" since {month_year(first)}" if merged > 1 else ""
    apart = f", plus {own_merged} in {own_where}" if own else ""
    return (
        f"{who} has {plural(merged, 'merged pull request')} in {where}{since}{apart}, {s.recency}."
    )


def highlights(summary: Summary, limit: int = 3) -> list[tuple[str, Entry]]:
    """Up to three contributions worth a look, each with why: largest, most recent, top niche."""
    counted = summary.counted
    if len(counted) < 2:
        return []
    picks: list[tuple[str, Entry]] = []

    def add(reason: str, entry: Entry) -> None:
        if all(entry is not e for _, e in picks) and len(picks) < limit:
            picks.append((reason, entry))

    add("largest change", max(counted, key=lambda e: (e.size, e.contribution.merged_at)))
    add("most recent", counted[0])
    top = top_niches(summary, 1)
    if top:  # the largest in the strongest niche that is not already picked
        fresh = [e for e in counted if top[0] in e.niches and all(e is not p for _, p in picks)]
        if fresh:
            add(f"in {top[0]}", max(fresh, key=lambda e: (e.size, e.contribution.merged_at)))
    return picks


# --- the niche story: where the work concentrates, the ramp, the next step -----------------


def concentration(summary: Summary, limit: int = 2) -> str | None:
    """'NLP (2 of 3 merged pull requests); huggingface/transformers (2), scikit-learn/... (1)'."""
    s = summary
    if not s.merged:
        return None
    repos = [f"{r.repo} ({r.prs}{', own' if r.own else ''})" for r in s.repos]
    projects = join_names(repos, limit)
    if not s.niches:
        return f"in {projects}"
    name, n = s.niches[0]
    niches = f"{name} ({n} of {plural(s.merged, 'merged pull request')})"
    others = [f"{other} ({k})" for other, k in s.niches[1:limit]]
    if others:
        niches += ", then " + join_names(others, limit)
    return f"{niches}; in {projects}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def ramp_text(summary: Summary) -> str | None:
    """'step 2 of 3, bug fixes: 1 docs/tests change, 1 bug fix, no feature yet' (private: None
    on the public part)."""
    r = summary.ramp
    if not r.step or summary.is_public:
        return None
    docs, bugs, features = r.counts
    parts = [
        _count(docs, "docs/tests change", "docs/tests changes"),
        _count(bugs, "bug fix", "bug fixes"),
        _count(features, "feature", "features"),
    ]
    return f"step {r.step} of {len(STAGES)}, {r.stage}: {', '.join(parts)}"


@dataclass(frozen=True)
class NextStep:
    """What the matcher points to after a first merge: `what` (linked to `url` when it is an
    issue), then `rest` (where, and why it is the next step)."""

    what: str
    url: str | None
    rest: str

    @property
    def text(self) -> str:
        return self.what + self.rest


_ISSUE_URL = re.compile(r"https://github\.com/([\w.-]+/[\w.-]+)/issues/(\d+)")
_ONE_OF_STAGE = ("docs or tests change", "bug fix", "feature")


def next_step(summary: Summary) -> NextStep | None:
    """The next issue and why it is next, else which kind of work to look for, and where: the
    step the ranking aims the learner at (`summary.level`), worded as its reasons are (private:
    None on the public part)."""
    s = summary
    if not s.merged or s.is_public:
        return None
    n = s.next_issue
    if n is not None:
        why = f", {n.step_up}" if n.step_up else ""
        if n.title:
            return NextStep(n.title, n.url, (f" in {n.repo}" if n.repo else "") + why)
        found = _ISSUE_URL.match(n.url)  # not stored: 'owner/name#123' from its address
        return NextStep(f"{found.group(1)}#{found.group(2)}" if found else n.url, n.url, why)
    aim = s.level.target
    merged_there = s.ramp.counts[aim - 1] > 0
    target = ("another " if merged_there else "a ") + _ONE_OF_STAGE[aim - 1]
    area = (top_niches(s, 1) or [s.repos[0].repo])[0]
    step_up = step_reason(s.level, STEP_KINDS[aim - 1], s.repos[0].repo)
    return NextStep(target, None, f" in {area}" + (f", {step_up}" if step_up else ""))


def next_issue(
    db: Database, learner_id: str, done: Iterable[str] = (), level: Level | None = None
) -> NextIssue | None:
    """The learner's newest suggestion they are working on or interested in, else not dismissed.

    Issues in `done` (closed by one of their merged pull requests) are not next any more. Among
    issues of the same standing (working on, then the rest), the one nearest the step the
    ranking aims the learner at (`level`, matcher.ramp.level_of) comes first, then one they are
    interested in, then the newest.
    """
    from matcher.store.issues import issues_by_url

    closed = {normalize_issue_url(u) for u in done}
    open_ones = [
        s
        for s in store.suggestions_of(db, learner_id)
        if s.status != "dismissed" and normalize_issue_url(s.issue_url) not in closed
    ]
    if not open_ones:
        return None
    level = level or Level()
    issues = {i.url: i for i in issues_by_url(db, [s.issue_url for s in open_ones])}
    steps = {url: kind_step(kind_of(issue.title, issue.labels)) for url, issue in issues.items()}
    status_rank = {"working": 0, "interested": 1}

    def distance(s) -> int:
        """Steps from the ranking's aim; an issue not stored after every stored one."""
        step = steps.get(s.issue_url)
        return off_target(level, step) if step is not None else len(STAGES)

    best = min(
        open_ones,
        key=lambda s: (
            s.status != "working",
            distance(s),
            status_rank.get(s.status, 2),
            -s.suggested_at.timestamp(),
        ),
    )
    issue = issues.get(best.issue_url)
    if issue is None:
        return NextIssue(url=best.issue_url)
    return NextIssue(
        url=best.issue_url,
        title=issue.title,
        repo=issue.repo,
        step=steps[best.issue_url],
        step_up=_why_next(level, issue, working=best.status == "working"),
    )


def _why_next(level: Level, issue: Issue, *, working: bool) -> str | None:
    """The ranking's ramp reason for the next issue. An issue the learner is working on is part
    of their level's basis, so it is measured against their merged work only (it would be 'the
    same step as' itself)."""
    if working:
        level = replace(level, basis=tuple(e for e in level.basis if e.merged))
    return step_reason(level, kind_of(issue.title, issue.labels), issue.repo)


def _ranked(counter: Counter) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def load_summary(
    db: Database,
    login: str,
    *,
    niches_of: Callable[[str], Iterable[str]] | None = None,
    now: datetime | None = None,
) -> Summary:
    """The summary of a login from the store; unverified logins are marked as such.

    Contributions are picked by login (by GitHub user id once verified), never by learner: a
    learner's earlier login, replaced by a newly verified one, keeps its stored contributions,
    but they show as unverified under that login and no longer in the learner's summary or funnel.
    """
    login = check_login(login)
    claims = store.identities_for_login(db, login)
    identity = next((c for c in claims if c.verified), None)
    github_id = identity.github_id if identity else None
    contributions = store.load_contributions(db, author_id=github_id, login=login)
    if not contributions and not claims and not store.claims_for_login(db, login):
        raise MatcherError(
            f"no portfolio for {login}: run `portfolio refresh {login}` "
            "(and link it to a learner to verify)"
        )
    shown_login = (
        identity.login if identity else (contributions[0].author_login if contributions else login)
    )
    attributions = store.load_attributions(db, identity.learner_id) if identity else []
    learner_id = identity.learner_id if identity else next((c.learner_id for c in claims), None)
    if niches_of is None:
        niches_of = _catalog_niches()
    level = _level_of_learner(db, learner_id) if learner_id is not None else None
    return summarize(
        shown_login or login,
        contributions,
        attributions,
        verified=identity is not None,
        niches_of=niches_of,
        now=now,
        funnel=(
            funnel(db, identity.learner_id, contributions=[c.url for c in contributions])
            if identity
            else None
        ),
        pending_login=identity.pending_login if identity else None,
        next_issue=(
            next_issue(db, learner_id, [i for c in contributions for i in c.closes], level)
            if learner_id is not None
            else None
        ),
        level=level,
        learner_id=learner_id,
    )


def _level_of_learner(db: Database, learner_id: str) -> Level:
    """The level the ranking ranks the learner at: verified merges, issues under way, pace (the
    'auto' pace for a learner who linked a login without saving a profile)."""
    return level_for(db, get_learner(db, learner_id) or Learner(learner_id))


def _catalog_niches() -> Callable[[str], Iterable[str]]:
    try:
        from matcher.catalog import load_catalog

        return load_catalog().niches_of
    except MatcherError as exc:  # a broken catalogue costs the niches, not the summary
        log.warning("catalogue unavailable (%s); niches come from repository topics only", exc)
        return lambda repo: ()
