"""/digest on|off and the weekly digest loop.

Every few minutes the loop asks matcher.operations.digests to plan the pass (who is due, reserve
each learner's week, rank all of them in batches, give back what failed) in one call off the
event loop, then sends the digests: by DM, else to the server's digest channel, else the failure
is recorded and shown to the learner at their next command. Every send carries the same nonce
for one learner's week, and Discord's enforce_nonce turns a retried send into the first message.

`/digest on` sends this ISO week's digest at once through the same steps (reserve, rank, send,
record; matcher.operations.digests.start_digest), so the loop sends nothing more that week; only
when the learner's slot is less than a day away does the first digest wait for it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks
from sqlalchemy.exc import SQLAlchemyError

from bot.common import Interaction, ack, reply
from bot.embeds import match_embed
from bot.exts.answers import match_view
from bot.exts.error_handler import store_unavailable
from matcher import metrics
from matcher.errors import MatcherError
from matcher.operations.digests import (
    DigestStart,
    PlannedDigest,
    digest_channel,
    digest_title,
    plan_due_digests,
    record_delivery,
    release_unsent,
    start_digest,
    title_prefix,
)
from matcher.operations.profiles import pop_notice, set_digest, with_notice

if TYPE_CHECKING:
    from bot.client import MatchBot

log = logging.getLogger(__name__)

# The loop survives these and tries again at the next tick; anything else is a bug,
# logged by on_loop_error.
SURVIVABLE = (MatcherError, SQLAlchemyError, discord.HTTPException, OSError, asyncio.TimeoutError)
# How far back a retry looks in the learner's DMs for a digest an earlier attempt sent.
HISTORY_LIMIT = 20


@dataclass
class DigestReport:
    """What one pass of the loop did."""

    due: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: float = 0.0

    def __str__(self) -> str:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())) or "nothing sent"
        return f"{self.due} due: {parts} in {self.seconds:.2f}s"


@dataclass(frozen=True)
class Message:
    content: str
    embeds: list[discord.Embed]
    view: discord.ui.View


def compose(planned: PlannedDigest) -> Message:
    matches = planned.matches
    content = (
        digest_title(planned.week, len(matches))
        + " Answer with the buttons; `/digest off` stops these."
    )
    embeds = [match_embed(m, i) for i, m in enumerate(matches, 1)]
    return Message(content, embeds, match_view(matches, planned.keys))


def first_digest_text(start: DigestStart, outcome: str | None) -> str:
    """The answer to `/digest on`: what happened to the first digest and when the next comes."""
    schedule = start.learner.schedule.describe()
    when = discord.utils.format_dt(start.next_at, "F")
    relative = discord.utils.format_dt(start.next_at, "R")
    first = {
        "dm": "Your first digest is in your DMs now.",
        "channel": "Your DMs are closed, so your first digest went to the server's digest channel.",
        "failed": "I could not deliver your first digest (see below).",
        "error": "Sending your first digest failed; I will retry it within a few minutes.",
    }
    if start.status == "now":
        told = first.get(outcome or "", "")
        return f"Weekly digest is on: {schedule}. {told} Next one: {when}."
    if start.status == "soon":
        return (
            f"Weekly digest is on: {schedule}. Your first one comes {relative} ({when}); "
            "`/suggest` shows matches right now."
        )
    if start.status == "already":
        return f"Weekly digest is on: {schedule}. You had this week's already; next one: {when}."
    return (
        f"Weekly digest is on: {schedule}. Nothing new fits your profile right now; "
        f"I will look again {relative} ({when}). Widen your skills with `/profile set`."
    )


class Digest(
    commands.GroupCog, group_name="digest", group_description="Your weekly digest of new matches"
):
    def __init__(self, bot: MatchBot):
        self.bot = bot
        super().__init__()
        self.last_report: DigestReport | None = None
        self._pass_lock = asyncio.Lock()
        self._stopping = asyncio.Event()  # set by stop_passes: unsent digests are given back

    async def cog_load(self) -> None:
        self.digest_loop.change_interval(seconds=self.bot.settings.digest_check_seconds)
        self.digest_loop.start()

    async def cog_unload(self) -> None:
        self.digest_loop.cancel()

    async def stop_passes(self, timeout: float) -> None:
        """No new pass; the pass in flight sends what it started and gives the rest back.

        After `timeout` the pass is cancelled: a digest whose send was cut off stays reserved and
        the next pass retries it (DM history and the nonce keep it from being sent twice).
        """
        self._stopping.set()
        if self._pass_lock.locked():
            try:
                await asyncio.wait_for(self._pass_ended(), timeout)
            except TimeoutError:
                log.warning("the digest pass did not end within %.0f s; cancelling it", timeout)
        self.digest_loop.cancel()

    async def _pass_ended(self) -> None:
        async with self._pass_lock:
            pass

    # ------------------------------------------------------------------ commands

    @app_commands.command(
        name="on", description="Get your top new matches by DM now, then once a week"
    )
    async def digest_on(self, interaction: Interaction) -> None:
        await ack(interaction)
        now = discord.utils.utcnow()
        learner_id = str(interaction.user.id)
        start, notice = await self.bot.ranking(
            with_notice,
            self.bot.db,
            learner_id,
            start_digest,
            self.bot.db,
            self.bot.engine,
            learner_id,
            now=now,
            top_k=self.bot.settings.digest_count,
        )
        outcome = None
        if start.planned is not None:
            try:
                outcome = await self.deliver(start.planned, now)
            except Exception as error:  # noqa: BLE001 - the unconfirmed week is retried by the loop
                log.error("first digest for learner %s failed", interaction.user.id, exc_info=error)
                outcome = "error"
            if outcome == "failed":  # the delivery left the learner a notice: show it now
                notice = await self.bot.light(pop_notice, self.bot.db, learner_id) or notice
        await reply(
            interaction,
            first_digest_text(start, outcome)
            + " Change the day, hour or time zone with `/profile set`.",
            notice=notice,
        )

    @app_commands.command(name="off", description="Stop the weekly digest")
    async def digest_off(self, interaction: Interaction) -> None:
        await ack(interaction)
        learner_id = str(interaction.user.id)
        _, notice = await self.bot.light(
            with_notice,
            self.bot.db,
            learner_id,
            set_digest,
            self.bot.db,
            learner_id,
            False,
            now=discord.utils.utcnow(),
        )
        await reply(
            interaction, "Weekly digest is off. `/digest on` brings it back.", notice=notice
        )

    # ------------------------------------------------------------------ the loop

    @tasks.loop(minutes=5)
    async def digest_loop(self) -> None:
        if self._stopping.is_set():
            return
        started = time.perf_counter()
        try:
            await self.run_due(discord.utils.utcnow())
        except SURVIVABLE as error:
            metrics.digest_pass("failed", time.perf_counter() - started, {})
            reason = store_unavailable(error)
            if reason is not None:  # one warning per outage, not a traceback per pass
                self.bot.outage.failed(reason)
                return
            log.warning(
                "digest pass failed, retrying next tick: %s",
                error.__class__.__name__,
                exc_info=error,
            )

    @digest_loop.before_loop
    async def _wait_ready(self) -> None:
        await self.bot.wait_until_ready()

    @digest_loop.error
    async def on_loop_error(self, error: BaseException) -> None:
        # Wait one interval first, so an error that recurs on every pass does not spin.
        delay = self.bot.settings.digest_check_seconds
        log.error("digest loop crashed; restarting it in %.0f s", delay, exc_info=error)
        await asyncio.sleep(delay)
        self.digest_loop.restart()

    async def run_due(self, now: datetime) -> DigestReport:
        """Send every digest due at `now`, each at most once per learner and week."""
        async with self._pass_lock:
            started = time.perf_counter()
            plan = await self.bot.ranking(
                plan_due_digests,
                self.bot.db,
                self.bot.engine,
                now=now,
                top_k=self.bot.settings.digest_count,
                bounded=False,  # the pass waits its turn; it is never turned away as busy
            )
            report = DigestReport(due=plan.due)
            if plan.released:
                report.outcomes["retry"] += plan.released
            gate = asyncio.Semaphore(self.bot.settings.digest_concurrency)
            unsent: list[PlannedDigest] = []

            async def deliver(planned: PlannedDigest) -> None:
                async with gate:
                    if self._stopping.is_set():  # stopping: not started, so given back below
                        unsent.append(planned)
                        return
                    try:
                        outcome = await self.deliver(planned, now)
                    except Exception as error:  # noqa: BLE001 - one learner, not the pass
                        # The reservation stays unconfirmed: a later pass retries it.
                        log.error(
                            "digest %s for learner %s failed",
                            planned.week,
                            planned.learner.learner_id,
                            exc_info=error,
                        )
                        outcome = "error"
                report.outcomes[outcome] += 1

            await asyncio.gather(*(deliver(planned) for planned in plan.digests))
            if unsent:
                report.outcomes["released"] += await self.bot.light(
                    release_unsent, self.bot.db, unsent
                )
            report.seconds = time.perf_counter() - started
            self.last_report = report
            metrics.digest_pass("ok", report.seconds, report.outcomes)
            if plan.due or plan.digests:
                log.info("digest pass: %s", report)
            return report

    async def deliver(self, planned: PlannedDigest, now: datetime) -> str:
        """Send one reserved digest; returns the recorded outcome."""
        db = self.bot.db
        if not planned.matches:
            return await self.bot.light(record_delivery, db, planned, "empty", now=now)
        if planned.retry:
            shown = await self._sent_before(planned)
            if shown is not None:
                return await self.bot.light(
                    record_delivery, db, planned, "dm", shown=shown, detail="retry", now=now
                )
        message = compose(planned)
        detail = None
        try:
            await self._dm(planned, message)
            outcome = "dm"
        except discord.HTTPException as error:  # Forbidden: DMs closed; NotFound: user gone
            detail = f"DM: {error.status} {error.code}"
            outcome = await self._to_channel(planned, message) or "failed"
        except Exception as error:  # noqa: BLE001 - bad data or a bug: record it, keep the pass
            log.error("digest DM to learner %s failed", planned.learner.learner_id, exc_info=error)
            detail = f"DM: {error.__class__.__name__}"
            outcome = await self._to_channel(planned, message) or "failed"
        return await self.bot.light(record_delivery, db, planned, outcome, detail=detail, now=now)

    async def _user(self, learner_id: str) -> discord.User:
        return self.bot.get_user(int(learner_id)) or await self.bot.fetch_user(int(learner_id))

    async def _dm(self, planned: PlannedDigest, message: Message) -> None:
        user = await self._user(planned.learner.learner_id)
        await user.send(
            message.content, embeds=message.embeds, view=message.view, nonce=planned.nonce
        )

    async def _sent_before(self, planned: PlannedDigest) -> list[str] | None:
        """The issue URLs of this week's digest if an earlier attempt already DMed it, else None.

        Discord keeps a nonce only for a few minutes; the DM history settles a retry after that.
        """
        try:
            user = await self._user(planned.learner.learner_id)
            channel = user.dm_channel or await user.create_dm()
            async for earlier in channel.history(limit=HISTORY_LIMIT):
                mine = self.bot.user is not None and earlier.author.id == self.bot.user.id
                if mine and earlier.content.startswith(title_prefix(planned.week)):
                    return [e.url for e in earlier.embeds if e.url]
        except discord.HTTPException as error:  # the nonce still guards the resend
            log.warning("cannot read the DMs of learner %s: %s", planned.learner.learner_id, error)
        return None

    async def _to_channel(self, planned: PlannedDigest, message: Message) -> str | None:
        learner = planned.learner
        channel_id = await self.bot.light(digest_channel, self.bot.db, learner)
        if not channel_id:
            return None
        try:
            channel = self.bot.get_channel(int(channel_id)) or await self.bot.fetch_channel(
                int(channel_id)
            )
            if not isinstance(channel, discord.abc.Messageable):
                raise TypeError(f"channel {channel_id} is not a text channel")
            # The one place the bot pings: the learner the digest is for, and nobody else.
            await channel.send(
                f"<@{learner.learner_id}> your DMs are closed, so here is your digest. "
                + message.content,
                embeds=message.embeds,
                view=message.view,
                nonce=planned.nonce,
                allowed_mentions=discord.AllowedMentions(
                    users=[discord.Object(int(learner.learner_id))]
                ),
            )
        except discord.HTTPException as error:
            log.warning(
                "digest channel %s of guild %s failed: %s",
                channel_id,
                learner.home_guild_id,
                error.status,
            )
            return None
        except Exception as error:  # noqa: BLE001 - e.g. the channel is no longer a text channel
            log.error(
                "digest channel %s of guild %s failed",
                channel_id,
                learner.home_guild_id,
                exc_info=error,
            )
            return None
        return "channel"


async def setup(bot: MatchBot) -> None:
    await bot.add_cog(Digest(bot))
