"""/digest on|off and the weekly digest loop.

Every few minutes the loop asks matcher.digest who is due, reserves each learner's week in the
store (a unique row: exactly once, across restarts and several processes), ranks new matches for
all of them in one batch off the event loop, and sends them: by DM, else to the server's digest
channel, else the failure is recorded and shown to the learner at their next command.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import discord
from discord import app_commands
from discord.ext import commands, tasks
from sqlalchemy.exc import SQLAlchemyError

from bot.common import reply, run_blocking
from bot.embeds import match_embed
from bot.views import match_view
from matcher.digest import due_learners, next_slot
from matcher.errors import MatcherError, ProfileError
from matcher.models import Match
from matcher.store.learners import (
    Learner,
    claim_digest,
    digest_learners,
    feedback_for,
    finish_digest,
    get_guild_config,
    last_digest_weeks,
    record_suggestions,
    release_digest,
    set_digest,
    set_pending_notice,
)

log = logging.getLogger(__name__)

# The loop survives these and tries again at the next tick; anything else is a bug,
# logged by on_loop_error.
SURVIVABLE = (MatcherError, SQLAlchemyError, discord.HTTPException, OSError, asyncio.TimeoutError)


@dataclass
class DigestReport:
    """What one pass of the loop did."""

    due: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: float = 0.0

    def __str__(self) -> str:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())) or "nothing sent"
        return f"{self.due} due: {parts} in {self.seconds:.2f}s"


def _rank(
    engine, learners: list[Learner], db, now: datetime, top_k: int
) -> dict[str, list[Match] | None]:
    """New matches for every learner, batched per community focus (runs in a worker thread).

    None for the learners of a batch whose ranking failed unexpectedly (e.g. one community's
    focus has no stored issues yet): their weeks are given back and retried, and the other
    communities' digests still go out.
    """
    groups: dict[tuple, list[Learner]] = defaultdict(list)
    configs = {}
    for learner in learners:
        config = configs.setdefault(
            learner.home_guild_id, get_guild_config(db, learner.home_guild_id)
        )
        focus = (config.focus_repos, config.focus_niches) if config else ((), ())
        groups[focus].append(learner)
    results: dict[str, list[Match] | None] = {}
    for (repos, niches), members in groups.items():
        try:
            results.update(_rank_group(engine, members, db, now, top_k, repos, niches))
        except Exception:  # noqa: BLE001 - one batch must not cost the other batches
            log.exception(
                "ranking %d digests (focus repos=%s niches=%s) failed; retrying them next tick",
                len(members),
                list(repos),
                list(niches),
            )
            results.update({m.learner_id: None for m in members})
    return results


def _rank_group(engine, members, db, now, top_k, repos, niches) -> dict[str, list[Match]]:
    """One batch of learners sharing a community focus."""
    results: dict[str, list[Match]] = {}
    feedback = {
        m.learner_id: feedback_for(db, m.learner_id, m.home_guild_id, for_digest=True, now=now)
        for m in members
    }
    valid = [m for m in members if m.skills.strip() or m.niche.strip()]
    try:
        results.update(
            engine.match_many(
                [m.profile for m in valid],
                top_k=top_k,
                feedback_by_id=feedback,
                repos=repos or None,
                niches=niches or None,
                now=now,
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
                    repos=repos or None,
                    niches=niches or None,
                    now=now,
                )
            except ProfileError:
                results[m.learner_id] = []
    return results


class Digest(
    commands.GroupCog, group_name="digest", group_description="Your weekly digest of new matches"
):
    def __init__(self, bot):
        self.bot = bot
        super().__init__()
        self.last_report: DigestReport | None = None
        self._pass_lock = asyncio.Lock()

    async def cog_load(self) -> None:
        self.digest_loop.change_interval(seconds=self.bot.settings.digest_check_seconds)
        self.digest_loop.start()

    async def cog_unload(self) -> None:
        self.digest_loop.cancel()

    # ------------------------------------------------------------------ commands

    @app_commands.command(name="on", description="Get your top new matches by DM once a week")
    async def digest_on(self, interaction: discord.Interaction) -> None:
        learner = set_digest(
            self.bot.db, str(interaction.user.id), True, now=discord.utils.utcnow()
        )
        when = discord.utils.format_dt(next_slot(learner.schedule, discord.utils.utcnow()), "F")
        await reply(
            interaction,
            f"Weekly digest is on: {learner.schedule.describe()}. Next one: {when}. "
            "Change the day, hour or time zone with `/profile set`.",
        )

    @app_commands.command(name="off", description="Stop the weekly digest")
    async def digest_off(self, interaction: discord.Interaction) -> None:
        set_digest(self.bot.db, str(interaction.user.id), False, now=discord.utils.utcnow())
        await reply(interaction, "Weekly digest is off. `/digest on` brings it back.")

    # ------------------------------------------------------------------ the loop

    @tasks.loop(minutes=5)
    async def digest_loop(self) -> None:
        try:
            await self.run_due(discord.utils.utcnow())
        except SURVIVABLE as error:
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
            db = self.bot.db
            learners = await run_blocking(digest_learners, db)
            last = await run_blocking(last_digest_weeks, db)
            due = due_learners(
                [(x.learner_id, x.schedule, x.digest_since) for x in learners], now, last
            )
            report = DigestReport(due=len(due))
            if due:
                by_id = {x.learner_id: x for x in learners}
                claimed = await run_blocking(
                    lambda: [
                        (by_id[d.learner_id], d.week)
                        for d in due
                        if claim_digest(db, d.learner_id, d.week, now=now)
                    ]
                )
                if claimed:
                    try:
                        matches = await run_blocking(
                            _rank,
                            self.bot.engine,
                            [learner for learner, _ in claimed],
                            db,
                            now,
                            self.bot.settings.digest_count,
                        )
                    except BaseException as error:
                        # Nothing was sent: give the weeks back so the next tick retries them,
                        # instead of leaving them reserved ('sending') and lost.
                        for learner, week in claimed:
                            release_digest(db, learner.learner_id, week)
                        if not isinstance(error, Exception):
                            raise  # cancelled (shutdown): the weeks are released, stop here
                        log.error(
                            "ranking %d digests failed; retrying them next tick",
                            len(claimed),
                            exc_info=error,
                        )
                        report.outcomes["retry"] = len(claimed)
                        claimed = []
                    retry = [
                        (x, week) for x, week in claimed if matches.get(x.learner_id, []) is None
                    ]
                    for learner, week in retry:
                        release_digest(db, learner.learner_id, week)
                        report.outcomes["retry"] += 1
                    claimed = [item for item in claimed if item not in retry]
                    gate = asyncio.Semaphore(self.bot.settings.digest_concurrency)

                    async def deliver(learner: Learner, week: str) -> None:
                        async with gate:
                            try:
                                outcome = await self.deliver(
                                    learner, week, matches.get(learner.learner_id, []), now
                                )
                            except Exception as error:  # noqa: BLE001 - one learner, not the pass
                                log.error(
                                    "digest %s for learner %s failed",
                                    week,
                                    learner.learner_id,
                                    exc_info=error,
                                )
                                outcome = "error"
                        report.outcomes[outcome] += 1

                    await asyncio.gather(*(deliver(learner, week) for learner, week in claimed))
            report.seconds = time.perf_counter() - started
            self.last_report = report
            if due:
                log.info("digest pass: %s", report)
            return report

    async def deliver(
        self, learner: Learner, week: str, matches: list[Match], now: datetime
    ) -> str:
        """Send one reserved digest; returns the recorded outcome."""
        db = self.bot.db
        if not matches:
            finish_digest(db, learner.learner_id, week, "empty")
            return "empty"
        content = (
            f"Your weekly matches ({week}): "
            + (
                f"{len(matches)} new issues that fit your profile. "
                if len(matches) != 1
                else "1 new issue that fits your profile. "
            )
            + "Answer with the buttons; `/digest off` stops these."
        )
        embeds = [match_embed(m, i) for i, m in enumerate(matches, 1)]
        view = match_view(matches, db)
        outcome, detail = "failed", None
        try:
            user = self.bot.get_user(int(learner.learner_id)) or await self.bot.fetch_user(
                int(learner.learner_id)
            )
            await user.send(content, embeds=embeds, view=view)
            outcome = "dm"
        except discord.HTTPException as error:  # Forbidden: DMs closed; NotFound: user gone
            detail = f"DM: {error.status} {error.code}"
            outcome = await self._to_channel(learner, content, embeds, view) or "failed"
        except Exception as error:  # noqa: BLE001 - bad data or a bug: record it, keep the pass
            log.error("digest DM to learner %s failed", learner.learner_id, exc_info=error)
            detail = f"DM: {error.__class__.__name__}"
            outcome = await self._to_channel(learner, content, embeds, view) or "failed"
        if outcome == "failed":
            config = get_guild_config(db, learner.home_guild_id)
            channel = (
                "the server's digest channel did not work either"
                if config is not None and config.digest_channel_id
                else "this server has no digest channel"
            )
            set_pending_notice(
                db,
                learner.learner_id,
                f"Your weekly digest for {week} could not be delivered: I could not DM you and "
                f"{channel}. Allow DMs from server members, or use `/suggest`.",
            )
        else:
            record_suggestions(
                db,
                learner.learner_id,
                [m.issue.url for m in matches],
                via="digest",
                guild_id=learner.home_guild_id,
                now=now,
            )
        finish_digest(db, learner.learner_id, week, outcome, detail=detail)
        return outcome

    async def _to_channel(self, learner: Learner, content: str, embeds, view) -> str | None:
        config = get_guild_config(self.bot.db, learner.home_guild_id)
        if config is None or not config.digest_channel_id:
            return None
        try:
            channel = self.bot.get_channel(
                int(config.digest_channel_id)
            ) or await self.bot.fetch_channel(int(config.digest_channel_id))
            # The one place the bot pings: the learner the digest is for, and nobody else.
            await channel.send(
                f"<@{learner.learner_id}> your DMs are closed, so here is your digest. {content}",
                embeds=embeds,
                view=view,
                allowed_mentions=discord.AllowedMentions(
                    users=[discord.Object(int(learner.learner_id))]
                ),
            )
        except discord.HTTPException as error:
            log.warning(
                "digest channel %s of guild %s failed: %s",
                config.digest_channel_id,
                learner.home_guild_id,
                error.status,
            )
            return None
        except Exception as error:  # noqa: BLE001 - e.g. the channel is no longer a text channel
            log.error(
                "digest channel %s of guild %s failed",
                config.digest_channel_id,
                learner.home_guild_id,
                exc_info=error,
            )
            return None
        return "channel"


async def setup(bot) -> None:
    await bot.add_cog(Digest(bot))
