"""/portfolio, /github link and /github verify, and the loop that congratulates new merges by DM.

The loop refreshes every verified GitHub login (one PyGithub client per pass, so repositories
are looked up once per pass) and DMs the learner one message per pass listing their new merged
pull requests. The first refresh of a login only records its history: nobody gets thirty
congratulations for last year's work.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks
from sqlalchemy.exc import SQLAlchemyError

from bot.common import Interaction, UserError, ack, mark_answered, reply, run_blocking
from bot.cooldowns import per_user_cooldown
from bot.embeds import cut as _cut
from bot.exts.error_handler import store_unavailable
from matcher import portfolio as lib
from matcher.errors import MatcherError
from matcher.operations.github_logins import (
    identity_of,
    own_login,
    pulls_client_for,
    same_login,
)
from matcher.operations.portfolios import refresh_portfolios
from matcher.operations.profiles import leave_notice
from matcher.render import capped, day
from matcher.render.chart import chart_png

if TYPE_CHECKING:
    from matcher.operations.github_logins import PullsClient

log = logging.getLogger(__name__)

COLOUR = discord.Colour(0x8250DF)
DEFAULT_REFRESH_SECONDS = 6 * 3600
CHART_NAME = "portfolio.png"
# The loop survives these and tries again next pass; anything else is logged by on_loop_error.
SURVIVABLE = (MatcherError, SQLAlchemyError, discord.HTTPException, OSError, asyncio.TimeoutError)


def default_client() -> PullsClient:
    """A PyGithub client from the matcher settings and GITHUB_TOKEN (anonymous without one)."""
    from matcher.settings import load_settings

    return pulls_client_for(load_settings())


def portfolio_embed(summary: lib.Summary) -> discord.Embed:
    """Totals, skills and the latest merges; the chart is attached as attachment://portfolio.png.

    It shows what the summary holds: give it `summary.seen_by(viewer, published=...)`.
    """
    s = summary
    description = s.headline
    if s.merged:
        description += (
            f"\n**{s.merged}** merged pull request{'s' if s.merged != 1 else ''} in "
            f"**{s.repos_count}** repositor{'ies' if s.repos_count != 1 else 'y'}"
            f" · +{s.additions:,} / -{s.deletions:,} lines"
        )
    if s.first_merge:
        description += (
            f"\nFirst merge {day(s.first_merge)}, latest {day(s.latest_merge)} · merges in "
            f"{s.active_weeks} week{'s' if s.active_weeks != 1 else ''}"
        )
    elif s.next_issue is not None:
        description += f"\nNext: your suggested issue {s.next_issue.url}"
    description += _story(s)
    if not s.verified:
        how = "" if s.is_public else " Use `/github link` to verify."
        description = f":warning: **Unverified login: not evidence.**{how}\n" + description
    elif s.pending_login:
        description += (
            f"\n:hourglass: **@{s.pending_login}** is linked but not yet verified; "
            f"@{s.login} stays yours until `/github verify` proves it."
        )
    embed = discord.Embed(
        title=_cut(f"Contributions of @{s.login}", 256),
        url=s.profile_url,
        colour=COLOUR,
        description=_cut(description, 4000),
    )
    if s.repos:
        repos = [
            f"[{r.repo}](https://github.com/{r.repo}){' (own)' if r.own else ''} · {r.prs}"
            for r in s.repos[:5]
        ]
        if len(s.repos) > 5:  # every repository accounted for
            repos.append(f"+{len(s.repos) - 5} more · {sum(r.prs for r in s.repos[5:])}")
        embed.add_field(name="Repositories", value=_cut("\n".join(repos), 1024), inline=False)
    if s.niches:
        embed.add_field(name="Niches", value=_cut(capped(s.niches), 1024))
    if s.languages:
        embed.add_field(name="Languages", value=_cut(capped(s.languages), 1024))
    latest = []
    for e in s.entries[:5]:
        c = e.contribution
        line = f"[{_cut(c.title, 60)}]({c.url}) · {day(c.merged_at)}"
        if e.suggested_at:
            line += f" · suggested {day(e.suggested_at)}"
        if c.reverted:
            line += " · reverted"
        latest.append(line)
    if latest:
        embed.add_field(name="Latest", value=_cut("\n".join(latest), 1024), inline=False)
    embed.set_image(url=f"attachment://{CHART_NAME}")
    login = "verified GitHub login" if s.verified else "unverified GitHub login"
    embed.set_footer(text=f"{login} · as of {day(s.generated_at)}")
    return embed


def _story(s: lib.Summary) -> str:
    """Where the work concentrates, the ramp and the next step, one line each."""
    lines = []
    where, ramp, step = lib.concentration(s), lib.ramp_text(s), lib.next_step(s)
    if where:
        lines.append(f"**Focus:** {where}")
    if ramp:
        lines.append(f"**Ramp:** {ramp}")
    if step:
        what = f"[{_cut(step.what, 80)}]({step.url})" if step.url else step.what
        lines.append(f"**Next step:** {what}{step.rest}")
    return "".join(f"\n{line}" for line in lines)


def congratulation(report: lib.RefreshReport) -> str:
    """One DM for the new merges of one refresh."""
    merged = [c for c in report.added if not c.reverted]
    suggested = {a.contribution_url for a in report.attributed}
    lines = [
        f":tada: Congratulations! {len(merged)} new merged pull "
        f"request{'s' if len(merged) != 1 else ''}:"
    ]
    for c in merged[:10]:
        note = " (one of your suggestions!)" if c.url in suggested else ""
        lines.append(f"• {c.repo}: {c.title} ({day(c.merged_at)}){note}\n  <{c.url}>")
    if len(merged) > 10:
        lines.append(f"…and {len(merged) - 10} more.")
    lines.append("Your `/portfolio` is up to date.")
    return _cut("\n".join(lines), 2000)


class Portfolio(commands.Cog):
    github = app_commands.Group(name="github", description="Link and verify your GitHub login")

    def __init__(self, bot):
        self.bot = bot
        self.make_client: Callable[[], PullsClient] = bot.pulls_client_factory or default_client
        self.refresh_seconds = float(bot.portfolio_refresh_seconds or DEFAULT_REFRESH_SECONDS)
        self._pass_lock = asyncio.Lock()
        self.last_reports: list[lib.RefreshReport] = []

    async def cog_load(self) -> None:
        self.refresh_loop.change_interval(seconds=self.refresh_seconds)
        self.refresh_loop.start()

    async def cog_unload(self) -> None:
        self.refresh_loop.cancel()

    async def stop_passes(self, timeout: float) -> None:
        """On stop: no new refresh pass; the one in flight may finish within `timeout`."""
        if self._pass_lock.locked():
            try:
                await asyncio.wait_for(self._pass_lock.acquire(), timeout)
                self._pass_lock.release()
            except TimeoutError:
                log.warning("the portfolio pass did not end within %.0f s; cancelling it", timeout)
        self.refresh_loop.cancel()

    # ------------------------------------------------------------------ commands

    @app_commands.command(name="portfolio", description="Your merged pull requests, with a chart")
    @app_commands.describe(login="A GitHub login (default: yours)", public="Show it to the channel")
    async def portfolio(
        self, interaction: Interaction, login: str | None = None, public: bool = False
    ) -> None:
        await ack(interaction, ephemeral=not public)
        login = login or await self.bot.light(own_login, self.bot.db, str(interaction.user.id))
        if not login:
            raise UserError("Link your GitHub login first: `/github link login: your-login`.")
        summary = await self.bot.light(lib.load_summary, self.bot.db, login)
        # the private part only for the learner's own portfolio, shown to them alone
        summary = summary.seen_by(str(interaction.user.id), published=public)
        png = await self.bot.light(chart_png, summary)
        await interaction.followup.send(
            embed=portfolio_embed(summary),
            file=discord.File(io.BytesIO(png), filename=CHART_NAME),
            ephemeral=not public,
        )
        mark_answered(interaction, "ok")

    @github.command(
        name="link", description="Link your GitHub login; you get a code to prove it is yours"
    )
    @app_commands.describe(login="Your GitHub login")
    async def link(self, interaction: Interaction, login: str) -> None:
        await ack(interaction)
        # GitHub calls go to asyncio's default executor: a slow GitHub holds no store thread
        result = await run_blocking(
            lib.link, self.bot.db, str(interaction.user.id), login, self.make_client()
        )
        await reply(
            interaction, f"{result.instructions}\nThen run `/github verify`.\n`{result.code}`"
        )

    @github.command(name="verify", description="Check GitHub for your code; then your merges count")
    @per_user_cooldown("verify_cooldown_seconds")
    async def verify(self, interaction: Interaction) -> None:
        await ack(interaction)
        learner_id = str(interaction.user.id)
        identity = await self.bot.light(identity_of, self.bot.db, learner_id)
        if identity is None:
            raise UserError("Start with `/github link login: your-login`.")
        if not identity.verified and identity.claim is None:  # e.g. a login moved from a profile
            raise UserError(
                f"Get a code for {identity.login} first: `/github link login: {identity.login}`."
            )
        client = self.make_client()
        # a login claimed beside a verified one is the one to prove; the verified stays till then
        claim = identity.claim
        login = claim.login if claim is not None else identity.login
        previous = identity.login if identity.verified and claim is not None else None
        identity = await run_blocking(lib.verify, self.bot.db, client, login, learner_id)
        report = await run_blocking(lib.refresh, self.bot.db, client, identity.login)
        replaced = (
            f" It replaces **{previous}**, whose merges no longer count as yours."
            if previous and not same_login(previous, identity.login)
            else ""
        )
        await reply(
            interaction,
            f"Verified: **{identity.login}** is yours.{replaced} Found {report.seen} merged pull "
            "request(s); `/portfolio` shows them. I'll DM you when a new one is merged.",
        )

    # ------------------------------------------------------------------ the loop

    @tasks.loop(hours=6)
    async def refresh_loop(self) -> None:
        try:
            await self.refresh_all()
        except SURVIVABLE as error:
            reason = store_unavailable(error)
            if reason is not None:  # one warning per outage, not a traceback per pass
                self.bot.outage.failed(reason)
                return
            log.warning(
                "portfolio refresh pass failed, retrying next pass: %s",
                error.__class__.__name__,
                exc_info=error,
            )

    @refresh_loop.before_loop
    async def _wait_ready(self) -> None:
        await self.bot.wait_until_ready()

    @refresh_loop.error
    async def on_loop_error(self, error: BaseException) -> None:
        log.error("portfolio loop crashed; restarting it", exc_info=error)
        self.refresh_loop.restart()

    async def refresh_all(self) -> list[lib.RefreshReport]:
        """Refresh every verified login once (unless another process runs the pass under the
        store's lease); DM learners about merges new since the last pass."""
        async with self._pass_lock:
            done = await run_blocking(refresh_portfolios, self.bot.db, self.make_client)
            for identity, report in done.refreshed:
                baseline = report.since is None  # first look at this login: history, not news
                if not baseline and any(not c.reverted for c in report.added):
                    await self._congratulate(identity.learner_id, report)
            self.last_reports = [report for _identity, report in done.refreshed]
            if done.stopped_by is not None:
                raise done.stopped_by
            return self.last_reports

    async def _congratulate(self, learner_id: str, report: lib.RefreshReport) -> None:
        message = congratulation(report)
        try:
            user = self.bot.get_user(int(learner_id)) or await self.bot.fetch_user(int(learner_id))
            await user.send(message)
        except (
            discord.HTTPException,
            ValueError,
        ) as error:  # Forbidden: DMs closed; NotFound: gone
            log.info(
                "cannot DM learner %s (%s); keeping the news for their next command",
                learner_id,
                error.__class__.__name__,
            )
            await run_blocking(leave_notice, self.bot.db, learner_id, message)


async def setup(bot) -> None:
    await bot.add_cog(Portfolio(bot))
