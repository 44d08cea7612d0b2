"""The weekly digest as operations: who is due, reserve their week, rank, record the delivery.

Delivery is neither lost nor doubled:
- a week is reserved by a unique row before anything is ranked or sent (one process wins);
- a ranking that fails gives its fresh reservations back, so the next pass retries them;
- a reservation nobody confirmed within STALE_AFTER (its process died, or an error came between
  reserve and confirm) is taken over by a later pass (one process wins the UPDATE) and retried as
  a `retry`: the sender first looks for the digest it may already have sent, and sends with the
  same nonce as the first attempt, which Discord deduplicates (enforce_nonce).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from matcher.digest import (
    current_week,
    due_learners,
    next_slot,
    next_slot_after_week,
    slot_week,
)
from matcher.errors import MatcherError, ProfileError
from matcher.models import Feedback, GuildConfig, Learner, Match
from matcher.operations.levels import level_for
from matcher.operations.profiles import set_digest
from matcher.operations.suggestions import feedback_for, focus_of, record_suggestions
from matcher.store import communities as community_store
from matcher.store import digests as store
from matcher.store import issue_keys
from matcher.store import learners as learner_store
from matcher.store.db import Database

if TYPE_CHECKING:
    from matcher.engine import MatchEngine

log = logging.getLogger(__name__)

# A reservation older than this and still unconfirmed belongs to a pass that died or failed.
STALE_AFTER = timedelta(minutes=2)
# `/digest on` sends the first digest at once unless the regular slot is closer than this.
FIRST_DIGEST_WAIT = timedelta(days=1)
Focus = tuple[tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class PlannedDigest:
    """One reserved digest, ranked and ready to send."""

    learner: Learner
    week: str
    matches: list[Match]
    # Taken over from a pass that never confirmed it: it may already have been sent.
    retry: bool = False
    keys: dict[str, str] = field(default_factory=dict)  # issue URL -> button key

    @property
    def nonce(self) -> str:
        return digest_nonce(self.learner.learner_id, self.week)


@dataclass
class DigestPlan:
    """What a pass has to do: how many were due, the digests to send, how many were given back."""

    due: int = 0
    digests: list[PlannedDigest] = field(default_factory=list)
    released: int = 0


def digest_nonce(learner_id: str, week: str) -> str:
    """The same nonce for every attempt at one learner's week (Discord allows 25 characters)."""
    return "d" + hashlib.sha256(f"{learner_id}:{week}".encode()).hexdigest()[:24]


def digest_title(week: str, count: int) -> str:
    """The first line of a digest; a retry recognises an earlier attempt by its start."""
    issues = "1 new issue that fits" if count == 1 else f"{count} new issues that fit"
    return f"Your weekly matches ({week}): {issues} your profile."


def title_prefix(week: str) -> str:
    return f"Your weekly matches ({week})"


def plan_due_digests(db: Database, engine: MatchEngine, *, now: datetime, top_k: int) -> DigestPlan:
    """Reserve every digest due at `now` (and take over stale ones), then rank them in batches.

    Learners whose ranking failed get their fresh reservations back (retried next pass).
    """
    learners = learner_store.digest_learners(db)
    by_id = {x.learner_id: x for x in learners}
    last = store.last_digest_weeks(db)
    due = due_learners([(x.learner_id, x.schedule, x.digest_since) for x in learners], now, last)
    plan = DigestPlan(due=len(due))
    reserved = [
        (by_id[d.learner_id], d.week, False)
        for d in due
        if store.reserve_digest(db, d.learner_id, d.week, now=now)
    ]
    reserved += _take_over_stale(db, by_id, now)
    if not reserved:
        return plan
    try:
        ranked = rank_digests(db, engine, [x[0] for x in reserved], now=now, top_k=top_k)
    except Exception:  # noqa: BLE001 - nothing was sent: give the weeks back, retry next pass
        log.exception("ranking %d digests failed; retrying them next pass", len(reserved))
        plan.released = _release(db, reserved)
        return plan
    except BaseException:  # cancelled (shutdown): the weeks are given back, then stop
        _release(db, reserved)
        raise
    failed = [item for item in reserved if ranked.get(item[0].learner_id) is None]
    plan.released = _release(db, failed)
    for learner, week, retry in reserved:
        if (learner, week, retry) in failed:
            continue
        matches = ranked[learner.learner_id] or []
        keys = issue_keys.register_issue_keys(db, [m.issue.url for m in matches])
        plan.digests.append(PlannedDigest(learner, week, matches, retry, keys))
    return plan


@dataclass(frozen=True)
class DigestStart:
    """What `/digest on` did: the first digest to send now (reserved and ranked) or why not.

    status: 'now' (send `planned`), 'soon' (the regular slot is within a day), 'already' (this
    week's digest was reserved before) or 'empty' (nothing fits now; the schedule stays).
    next_at: when the weekly rhythm brings the next digest.
    """

    learner: Learner
    status: str
    next_at: datetime
    planned: PlannedDigest | None = None


def start_digest(
    db: Database, engine: MatchEngine, learner_id: str, *, now: datetime, top_k: int
) -> DigestStart:
    """Switch the learner's digest on and, unless the regular slot is within a day, reserve and
    rank this ISO week's digest now, so the weekly pass sends nothing more this week."""
    learner = set_digest(db, learner_id, True, now=now)
    schedule = learner.schedule
    week = current_week(schedule, now)
    if _latest_week(db, learner_id) == week:
        return DigestStart(learner, "already", next_slot_after_week(schedule, now, week))
    soon = next_slot(schedule, now)
    if soon - now < FIRST_DIGEST_WAIT:
        return DigestStart(learner, "soon", soon)
    if not store.reserve_digest(db, learner_id, week, now=now):  # another process was first
        return DigestStart(learner, "already", next_slot_after_week(schedule, now, week))
    reserved = [(learner, week, False)]
    try:
        ranked = rank_digests(db, engine, [learner], now=now, top_k=top_k).get(learner_id)
    except BaseException:
        _release(db, reserved)
        raise
    if ranked is None:
        _release(db, reserved)
        raise MatcherError("your first digest could not be ranked just now; try `/suggest`")
    if not ranked:  # give the week back: the regular slot may find something after a sync
        _release(db, reserved)
        return DigestStart(learner, "empty", soon)
    keys = issue_keys.register_issue_keys(db, [m.issue.url for m in ranked])
    planned = PlannedDigest(learner, week, ranked, keys=keys)
    return DigestStart(learner, "now", next_slot_after_week(schedule, now, week), planned)


def next_digest_at(db: Database, learner: Learner, *, now: datetime) -> datetime | None:
    """When the learner's next digest comes (None if it is off), skipping a slot whose ISO week
    already had one (a first digest sent by `/digest on`)."""
    if not learner.digest_enabled:
        return None
    return next_slot_after_week(learner.schedule, now, _latest_week(db, learner.learner_id))


def _latest_week(db: Database, learner_id: str) -> str | None:
    return max((d.week for d in store.deliveries(db, learner_id)), default=None)


def _take_over_stale(
    db: Database, by_id: dict[str, Learner], now: datetime
) -> list[tuple[Learner, str, bool]]:
    stale = store.stale_reservations(db, reserved_before=now - STALE_AFTER)
    return [
        (by_id[r.learner_id], r.week, True)
        for r in stale
        if r.learner_id in by_id
        and store.take_over_stale(
            db, r.learner_id, r.week, reserved_before=now - STALE_AFTER, now=now
        )
    ]


def _release(db: Database, reserved: list[tuple[Learner, str, bool]]) -> int:
    """Give back fresh reservations; a taken-over one may have been sent, so it stays reserved."""
    fresh = [(learner, week) for learner, week, retry in reserved if not retry]
    for learner, week in fresh:
        store.release_digest(db, learner.learner_id, week)
    return len(reserved)


def rank_digests(
    db: Database, engine: MatchEngine, learners: list[Learner], *, now: datetime, top_k: int
) -> dict[str, list[Match] | None]:
    """New matches for every learner, batched per community focus.

    None for the learners of a batch whose ranking failed unexpectedly (e.g. one community's
    focus has no stored issues yet), so the other communities' digests still go out.
    """
    groups: dict[Focus, list[Learner]] = defaultdict(list)
    configs: dict[str | None, GuildConfig | None] = {}
    for learner in learners:
        guild = learner.home_guild_id
        if guild not in configs:
            configs[guild] = community_store.get_guild_config(db, guild)
        config = configs[guild]
        groups[(config.focus_repos, config.focus_niches) if config else ((), ())].append(learner)
    results: dict[str, list[Match] | None] = {}
    for focus, members in groups.items():
        try:
            results.update(_rank_group(db, engine, members, focus, now=now, top_k=top_k))
        except Exception:  # noqa: BLE001 - one batch must not cost the other batches
            log.exception(
                "ranking %d digests (focus repos=%s niches=%s) failed; retrying them next pass",
                len(members),
                list(focus[0]),
                list(focus[1]),
            )
            results.update({m.learner_id: None for m in members})
    return results


def _rank_group(
    db: Database,
    engine: MatchEngine,
    members: list[Learner],
    focus: Focus,
    *,
    now: datetime,
    top_k: int,
) -> dict[str, list[Match]]:
    """One batch of learners sharing a community focus, through the engine's batch ranking."""
    feedback: dict[str, Feedback] = {
        m.learner_id: feedback_for(db, m.learner_id, m.home_guild_id, for_digest=True, now=now)
        for m in members
    }
    valid = [m for m in members if m.skills.strip() or m.niche.strip()]
    levels = {m.learner_id: level_for(db, m) for m in valid}
    repos, niches = focus[0] or None, focus[1] or None
    results: dict[str, list[Match]] = {m.learner_id: [] for m in members}
    try:
        results.update(
            engine.match_many(
                [m.profile for m in valid],
                top_k=top_k,
                feedback_by_id=feedback,
                repos=repos,
                niches=niches,
                now=now,
                levels_by_id=levels,
            )
        )
    except ProfileError as error:  # one bad profile must not cost everyone their digest
        log.warning("digest batch failed (%s); ranking one by one", error)
        for m in valid:
            try:
                results[m.learner_id] = engine.match(
                    m.profile,
                    top_k=top_k,
                    feedback=feedback[m.learner_id],
                    repos=repos,
                    niches=niches,
                    now=now,
                    level=levels[m.learner_id],
                )
            except ProfileError:
                results[m.learner_id] = []
    return results


def record_delivery(
    db: Database,
    planned: PlannedDigest,
    outcome: str,
    *,
    detail: str | None = None,
    shown: list[str] | None = None,
    now: datetime,
) -> str:
    """Confirm how a reserved digest went ('dm', 'channel', 'empty' or 'failed').

    A delivered digest records its issues as shown (`shown`: the URLs really sent, when a retry
    found an earlier attempt); a failed one leaves the learner a notice for their next command.
    """
    learner = planned.learner
    if outcome in ("dm", "channel"):
        urls = shown if shown is not None else [m.issue.url for m in planned.matches]
        record_suggestions(
            db, learner.learner_id, urls, via="digest", guild_id=learner.home_guild_id, now=now
        )
    elif outcome == "failed":
        learner_store.set_pending_notice(db, learner.learner_id, _undelivered(db, planned))
    store.finish_digest(db, learner.learner_id, planned.week, outcome, detail=detail)
    return outcome


def _undelivered(db: Database, planned: PlannedDigest) -> str:
    config = community_store.get_guild_config(db, planned.learner.home_guild_id)
    channel = (
        "the server's digest channel did not work either"
        if config is not None and config.digest_channel_id
        else "this server has no digest channel"
    )
    return (
        f"Your weekly digest for {planned.week} could not be delivered: I could not DM you and "
        f"{channel}. Allow DMs from server members, or use `/suggest`."
    )


def digest_channel(db: Database, learner: Learner) -> str | None:
    """The channel id of the learner's community for digests that cannot go by DM."""
    config = community_store.get_guild_config(db, learner.home_guild_id)
    return config.digest_channel_id if config is not None else None


@dataclass(frozen=True)
class DigestPreview:
    """What a learner's next digest would hold if it were sent now (nothing is reserved)."""

    learner: Learner
    week: str
    next_at: datetime
    matches: list[Match]


def preview_digest(
    db: Database, engine: MatchEngine, learner_id: str, *, now: datetime, top_k: int
) -> DigestPreview | None:
    """The learner's next digest as it would be ranked now; None if they have no profile."""
    learner = learner_store.get_learner(db, learner_id)
    if learner is None:
        return None
    config = community_store.get_guild_config(db, learner.home_guild_id)
    feedback = feedback_for(db, learner_id, learner.home_guild_id, for_digest=True, now=now)
    matches = engine.match(
        learner.profile,
        top_k=top_k,
        feedback=feedback,
        now=now,
        level=level_for(db, learner),
        **focus_of(config),
    )
    at = next_slot(learner.schedule, now)
    return DigestPreview(learner, slot_week(learner.schedule, at), at, matches)


def deliveries(db: Database, learner_id: str | None = None) -> list:
    """Digest deliveries (of one learner, or all), oldest first."""
    return store.deliveries(db, learner_id)


def release_unsent(db: Database, planned: list[PlannedDigest]) -> int:
    """Give back the reservations of digests a stopping process did not send, so the next pass
    sends them; a taken-over one stays reserved (an earlier attempt may have sent it)."""
    return sum(
        store.release_digest(db, p.learner.learner_id, p.week) for p in planned if not p.retry
    )
