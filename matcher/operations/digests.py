"""The weekly digest as operations: who is due, reserve their week, rank, record the delivery.

Delivery is neither lost nor doubled:
- a week is reserved by a unique row before anything is ranked or sent (one process wins);
- a ranking that fails gives its fresh reservations back, so the next pass retries them;
- every reservation names its owner, a store handle whose lease (matcher.store.leases) a thread
  renews while the handle is open: another process takes a reservation over only once its
  owner stopped renewing (died, or closed its handle); the owner itself retries its own
  reservations left unconfirmed for STALE_AFTER (an error came between reserve and confirm).
  One process wins each takeover's UPDATE; a taken-over digest is sent as a `retry`: the sender
  first looks for the digest it may already have sent, and sends with the same nonce as the
  first attempt, which Discord deduplicates (enforce_nonce).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from matcher.digest import (
    Schedule,
    current_week,
    last_slot,
    next_slot,
    next_slot_after_week,
    slot_week,
)
from matcher.errors import MatcherError, ProfileError
from matcher.models import Feedback, Learner, Level, Match
from matcher.operations.levels import level_for, levels_for
from matcher.operations.profiles import set_digest
from matcher.operations.suggestions import (
    feedback_for,
    feedbacks_for,
    focus_of,
    record_suggestions,
)
from matcher.store import communities as community_store
from matcher.store import digests as store
from matcher.store import issue_keys, leases
from matcher.store import learners as learner_store
from matcher.store import suggestions as suggestion_store
from matcher.store.db import Database

if TYPE_CHECKING:
    from matcher.engine import MatchEngine

log = logging.getLogger(__name__)

# A reservation of this process (or one made before owners were recorded) still unconfirmed
# after this long failed between reserve and confirm: the owner's next pass retries it. Another
# process's reservation is taken over only once that owner stops renewing its lease.
STALE_AFTER = timedelta(minutes=2)
# How long a process's hold on its reservations lasts unrenewed; a thread renews it every third.
OWNER_TTL = timedelta(seconds=90)
_owners: dict[int, leases.Keeper] = {}  # id(store handle) -> the keeper of its owner lease
_owners_lock = threading.Lock()
_told: set[tuple[str, str]] = set()  # (learner, reason) already named and noticed by this process
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
    skipped: int = 0  # learners whose stored data is broken (named in the log, told later)
    # seconds by phase: reserve (find, reserve, take over), read (feedback, levels), rank, keys
    timings: dict[str, float] = field(default_factory=dict)


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
    """Reserve every digest due at `now` (and take over those whose owner died), then rank them.

    Set-based: the due learners are found, reserved and their feedback read in a few queries
    for the whole pass. A learner whose stored data is broken (an unknown time zone, a profile
    that cannot be ranked) is skipped, named in one log line and told at their next command;
    the pass goes on for everyone else. Learners whose ranking failed get their fresh
    reservations back (retried next pass).
    """
    started = time.perf_counter()
    owner = digest_owner(db)
    plan, reserved = _reserve_due(db, owner, now)
    plan.timings["reserve"] = time.perf_counter() - started
    if not reserved:
        return plan
    try:
        ranked, broken = _rank_all(
            db, engine, [x[0] for x in reserved], now=now, top_k=top_k, timings=plan.timings
        )
    except Exception:  # noqa: BLE001 - nothing was sent: give the weeks back, retry next pass
        log.exception("ranking %d digests failed; retrying them next pass", len(reserved))
        plan.released = _release(db, reserved, owner)
        return plan
    except BaseException:  # cancelled (shutdown): the weeks are given back, then stop
        _release(db, reserved, owner)
        raise
    _skip_broken(db, [x for x in reserved if x[0].learner_id in broken], broken)
    plan.skipped += len(broken)
    ranked_or_skipped = {learner for learner, matches in ranked.items() if matches is not None}
    ranked_or_skipped |= set(broken)
    plan.released = _release(
        db, [x for x in reserved if x[0].learner_id not in ranked_or_skipped], owner
    )
    keyed = time.perf_counter()
    plan.digests = _with_keys(
        db, [x for x in reserved if ranked.get(x[0].learner_id) is not None], ranked
    )
    plan.timings["keys"] = time.perf_counter() - keyed
    return plan


Reserved = tuple[Learner, str, bool]  # (learner, week, taken over from another attempt)


def _reserve_due(db: Database, owner: str, now: datetime) -> tuple[DigestPlan, list[Reserved]]:
    """Find who is due, reserve their weeks, take over what dead owners left: a few queries."""
    schedules = learner_store.digest_schedules(db)
    due, unschedulable = _find_due(db, schedules, now)
    won = store.reserve_many(db, due, owner=owner, now=now)
    retried = _take_over(db, owner, {row[0] for row in schedules}, now)
    _tell_skipped(db, unschedulable)
    pairs = sorted(won | retried)
    learners = learner_store.learners_by_id(db, {learner for learner, _ in pairs})
    reserved = [
        (learners[lid], week, (lid, week) in retried) for lid, week in pairs if lid in learners
    ]
    return DigestPlan(due=len(due), skipped=len(unschedulable)), reserved


def _with_keys(
    db: Database, ready: list[Reserved], ranked: dict[str, list[Match] | None]
) -> list[PlannedDigest]:
    """The planned digests, with the button keys of all their issues registered at once."""
    keys = issue_keys.register_issue_keys(
        db, {m.issue.url for x in ready for m in ranked[x[0].learner_id] or []}
    )
    planned = []
    for learner, week, retry in ready:
        matches = ranked[learner.learner_id] or []
        mine = {m.issue.url: keys[m.issue.url] for m in matches}
        planned.append(PlannedDigest(learner, week, matches, retry, mine))
    return planned


def digest_owner(db: Database) -> str:
    """The owner name this store handle reserves digests under; its lease is renewed from a
    thread until the handle closes (then released, so its open reservations are retried)."""
    with _owners_lock:
        keeper = _owners.get(id(db))
        if keeper is not None and keeper.db is db and not keeper.lost.is_set():
            return keeper.owner
        owner = leases.new_owner("digests")
        leases.acquire(db, owner, owner, ttl=OWNER_TTL)
        keeper = leases.Keeper(db, owner, owner, ttl=OWNER_TTL).start()
        _owners[id(db)] = keeper
        db.on_close(lambda: _stop_owner(db, keeper))
        return owner


def _stop_owner(db: Database, keeper: leases.Keeper) -> None:
    with _owners_lock:
        if _owners.get(id(db)) is keeper:
            del _owners[id(db)]
    keeper.stop()


def _find_due(
    db: Database, schedules: list[tuple[str, int, int, str, datetime | None]], now: datetime
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(learner_id, week) of every learner due at `now`, and learner_id -> why the schedule of
    the others cannot be read. The slot is worked out once per distinct schedule."""
    slots: dict[tuple[int, int, str], tuple[datetime, str] | str] = {}
    for _, weekday, hour, zone, _ in schedules:
        if (weekday, hour, zone) not in slots:
            slots[(weekday, hour, zone)] = _slot(weekday, hour, zone, now)
    delivered = store.delivered_pairs(db, {s[1] for s in slots.values() if isinstance(s, tuple)})
    due, broken = [], {}
    for learner_id, weekday, hour, zone, since in schedules:
        slot = slots[(weekday, hour, zone)]
        if isinstance(slot, str):
            broken[learner_id] = slot
        elif (since is None or slot[0] >= since) and (learner_id, slot[1]) not in delivered:
            due.append((learner_id, slot[1]))
    return due, broken


def _slot(weekday: int, hour: int, zone: str, now: datetime) -> tuple[datetime, str] | str:
    """(the latest slot, its week key), or the reason the schedule cannot be read."""
    try:
        schedule = Schedule(weekday, hour, zone)
        return last_slot(schedule, now), slot_week(schedule, now)
    except (ProfileError, ValueError) as error:
        return str(error)


def _take_over(db: Database, owner: str, enabled: set[str], now: datetime) -> set[tuple[str, str]]:
    """Take over open reservations whose owner stopped renewing its lease, and this owner's own
    (or owner-less) ones unconfirmed for STALE_AFTER; the pairs won."""
    before = now - STALE_AFTER
    open_rows = [
        r
        for r in store.open_reservations(db, except_owner=owner, since=before)
        if r.learner_id in enabled
    ]
    others = {r.owner for r in open_rows if r.owner is not None and r.owner != owner}
    dead = others - leases.live_names(db, others)
    candidates = [
        (r.learner_id, r.week)
        for r in open_rows
        if r.owner in dead or (r.owner in (None, owner) and r.sent_at < before)
    ]
    if not candidates:
        return set()
    won = store.take_over_many(
        db, candidates, owner=owner, dead_owners=dead, reserved_before=before, now=now
    )
    if won:
        log.warning(
            "took over %d unconfirmed digest reservation(s) (owners that stopped renewing: %d; "
            "this process's own older attempts: the rest); each is sent as a retry",
            len(won),
            len(dead),
        )
    return won


def _release(db: Database, reserved: list[Reserved], owner: str | None = None) -> int:
    """Give back fresh reservations; a taken-over one may have been sent, so it stays reserved."""
    fresh = [(learner.learner_id, week) for learner, week, retry in reserved if not retry]
    store.release_many(db, fresh, owner=owner)
    return len(reserved)


def release_planned(db: Database, digests: list[PlannedDigest]) -> int:
    """Give back planned digests that will not be sent (e.g. the process is stopping); a retry
    stays reserved, since an earlier attempt may have sent it. The count given back."""
    fresh = [(p.learner.learner_id, p.week) for p in digests if not p.retry]
    return store.release_many(db, fresh)


def _tell_skipped(db: Database, why: dict[str, str]) -> None:
    """One log line naming learners skipped for bad data; a notice for each, once per process."""
    new = {learner: reason for learner, reason in why.items() if (learner, reason) not in _told}
    if not new:
        return
    log.warning(
        "digest pass skipped %d learner(s) with bad stored data: %s",
        len(new),
        "; ".join(f"{learner} ({reason})" for learner, reason in sorted(new.items())[:50]),
    )
    learner_store.add_notices(
        db,
        {
            learner: f"Your weekly digest was skipped: {reason}. Fix it with `/profile set`."
            for learner, reason in new.items()
        },
    )
    _told.update(new.items())


def _skip_broken(db: Database, reserved: list[Reserved], why: dict[str, str]) -> None:
    """Record the week of a learner whose profile cannot be ranked as failed, and tell them."""
    if not reserved:
        return
    for reason in set(why.values()):
        pairs = [(x[0].learner_id, x[1]) for x in reserved if why[x[0].learner_id] == reason]
        store.finish_many(db, pairs, "failed", detail=f"skipped: {reason}"[:500])
    _tell_skipped(db, why)


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
    if not store.reserve_digest(db, learner_id, week, now=now, owner=digest_owner(db)):
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


def rank_digests(
    db: Database, engine: MatchEngine, learners: list[Learner], *, now: datetime, top_k: int
) -> dict[str, list[Match] | None]:
    """New matches for every learner, batched per community focus.

    None for the learners of a batch whose ranking failed unexpectedly (e.g. one community's
    focus has no stored issues yet), so the other communities' digests still go out; [] for a
    learner whose profile cannot be ranked.
    """
    ranked, broken = _rank_all(db, engine, learners, now=now, top_k=top_k, timings={})
    return {**ranked, **{learner: [] for learner in broken}}


@dataclass(frozen=True)
class _Inputs:
    """What the ranking of a pass needs from the store, read for all its learners at once."""

    feedback: dict[str, Feedback]
    levels: dict[str, Level]
    focus: dict[str, Focus]


def _read_inputs(db: Database, learners: list[Learner], *, now: datetime) -> _Inputs:
    """Feedback, levels and community focus of every learner: a few queries for the pass."""
    suggestions = suggestion_store.suggestions_by_learner(db, [x.learner_id for x in learners])
    configs = {
        guild: community_store.get_guild_config(db, guild)
        for guild in {x.home_guild_id for x in learners}
    }
    focus: dict[str, Focus] = {}
    for learner in learners:
        config = configs[learner.home_guild_id]
        focus[learner.learner_id] = (
            (config.focus_repos, config.focus_niches) if config else ((), ())
        )
    return _Inputs(
        feedbacks_for(db, learners, suggestions, for_digest=True, now=now),
        levels_for(db, learners, suggestions),
        focus,
    )


def _rank_all(
    db: Database,
    engine: MatchEngine,
    learners: list[Learner],
    *,
    now: datetime,
    top_k: int,
    timings: dict[str, float],
) -> tuple[dict[str, list[Match] | None], dict[str, str]]:
    """(learner_id -> matches, or None for a batch that failed), (learner_id -> why their
    profile cannot be ranked)."""
    started = time.perf_counter()
    inputs = _read_inputs(db, learners, now=now)
    timings["read"] = time.perf_counter() - started
    groups: dict[Focus, list[Learner]] = defaultdict(list)
    for learner in learners:
        groups[inputs.focus[learner.learner_id]].append(learner)
    results: dict[str, list[Match] | None] = {}
    broken: dict[str, str] = {}
    for focus, members in groups.items():
        try:
            results.update(
                _rank_group(engine, members, focus, inputs, broken, now=now, top_k=top_k)
            )
        except Exception:  # noqa: BLE001 - one batch must not cost the other batches
            log.exception(
                "ranking %d digests (focus repos=%s niches=%s) failed; retrying them next pass",
                len(members),
                list(focus[0]),
                list(focus[1]),
            )
            results.update({m.learner_id: None for m in members})
    timings["rank"] = time.perf_counter() - started - timings["read"]
    return results, broken


def _rank_group(
    engine: MatchEngine,
    members: list[Learner],
    focus: Focus,
    inputs: _Inputs,
    broken: dict[str, str],
    *,
    now: datetime,
    top_k: int,
) -> dict[str, list[Match]]:
    """One batch of learners sharing a community focus, through the engine's batch ranking;
    a learner whose profile cannot be ranked goes into `broken`, not into the results."""
    valid = [m for m in members if m.skills.strip() or m.niche.strip()]
    repos, niches = focus[0] or None, focus[1] or None
    results: dict[str, list[Match]] = {m.learner_id: [] for m in members}
    try:
        results.update(
            engine.match_many(
                [m.profile for m in valid],
                top_k=top_k,
                feedback_by_id=inputs.feedback,
                repos=repos,
                niches=niches,
                now=now,
                levels_by_id=inputs.levels,
            )
        )
    except ProfileError as error:  # one bad profile must not cost everyone their digest
        log.info("digest batch failed (%s); ranking one by one", error)
        for m in valid:
            try:
                results[m.learner_id] = engine.match(
                    m.profile,
                    top_k=top_k,
                    feedback=inputs.feedback[m.learner_id],
                    repos=repos,
                    niches=niches,
                    now=now,
                    level=inputs.levels[m.learner_id],
                )
            except ProfileError as bad:
                broken[m.learner_id] = str(bad)
                del results[m.learner_id]
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
    with db.transaction():  # one commit: the shown issues and the outcome land together
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
