"""/suggest: the learner's best matches now, with reasons, links and answer buttons."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.common import Interaction, ack, guild_key, reply
from bot.cooldowns import per_user_cooldown
from bot.embeds import match_embed
from bot.exts.answers import match_view
from matcher.operations.suggestions import suggest_reply

if TYPE_CHECKING:
    from bot.client import MatchBot

log = logging.getLogger(__name__)


class Suggest(commands.Cog):
    def __init__(self, bot: MatchBot):
        self.bot = bot

    @app_commands.command(
        name="suggest", description="Open-source issues that fit your profile, right now"
    )
    @app_commands.describe(count="How many matches (1-5)")
    @per_user_cooldown("suggest_cooldown_seconds")
    async def suggest(
        self, interaction: Interaction, count: app_commands.Range[int, 1, 5] | None = None
    ) -> None:
        # Ranking can take longer than Discord's 3-second window: acknowledge first. A full ranking
        # queue raises Busy, which the error handler answers with "try again in a minute".
        await ack(interaction)
        result = await self.bot.ranking(
            suggest_reply,
            self.bot.db,
            self.bot.engine,
            str(interaction.user.id),
            guild_id=guild_key(interaction),
            count=count or self.bot.settings.suggest_count,
            now=discord.utils.utcnow(),
        )
        if result.learner is None:
            await reply(
                interaction,
                "Set up your profile first: `/profile set skills: python, pytorch niche: nlp`.",
                notice=result.notice,
            )
            return
        if not result.matches:
            where = " in this server's focus" if result.focused else ""
            await reply(
                interaction,
                f"No open issues fit your profile{where} right now. "
                "Try broader skills with `/profile set`, or check back after the next sync.",
                notice=result.notice,
            )
            return
        await reply(
            interaction,
            f"Your top {len(result.matches)} matches. "
            "Answer with the buttons; your answers shape the next ones.",
            embeds=[match_embed(m, i) for i, m in enumerate(result.matches, 1)],
            view=match_view(result.matches, result.keys),
            notice=result.notice,
        )


async def setup(bot: MatchBot) -> None:
    await bot.add_cog(Suggest(bot))
