"""/suggest: the learner's best matches now, with reasons, links and answer buttons."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.common import guild_key, reply, run_blocking
from bot.embeds import match_embed
from bot.views import match_view
from matcher.store.learners import (
    feedback_for,
    get_guild_config,
    get_learner,
    record_suggestions,
    set_home_guild,
)

log = logging.getLogger(__name__)


class Suggest(commands.Cog):
    def __init__(self, bot):
        self.bot = bot

    @app_commands.command(
        name="suggest", description="Open-source issues that fit your profile, right now"
    )
    @app_commands.describe(count="How many matches (1-5)")
    async def suggest(
        self, interaction: discord.Interaction, count: app_commands.Range[int, 1, 5] | None = None
    ) -> None:
        # Ranking can take longer than Discord's 3-second window: acknowledge first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        db = self.bot.db
        learner_id = str(interaction.user.id)
        learner = get_learner(db, learner_id)
        if learner is None:
            await reply(
                interaction,
                "Set up your profile first: `/profile set skills: python, pytorch niche: nlp`.",
            )
            return
        guild_id = guild_key(interaction) or learner.home_guild_id
        set_home_guild(db, learner_id, guild_key(interaction))
        config = get_guild_config(db, guild_id)
        now = discord.utils.utcnow()
        feedback = feedback_for(db, learner_id, guild_id, now=now)
        matches = await run_blocking(
            self.bot.engine.match,
            learner.profile,
            top_k=count or self.bot.settings.suggest_count,
            feedback=feedback,
            repos=(config.focus_repos or None) if config else None,
            niches=(config.focus_niches or None) if config else None,
            now=now,
        )
        if not matches:
            where = (
                " in this server's focus"
                if config and (config.focus_repos or config.focus_niches)
                else ""
            )
            await reply(
                interaction,
                f"No open issues fit your profile{where} right now. "
                "Try broader skills with `/profile set`, or check back after the next sync.",
            )
            return
        record_suggestions(
            db,
            learner_id,
            [m.issue.url for m in matches],
            via="suggest",
            guild_id=guild_id,
            now=now,
        )
        await reply(
            interaction,
            f"Your top {len(matches)} matches. "
            "Answer with the buttons; your answers shape the next ones.",
            embeds=[match_embed(m, i) for i, m in enumerate(matches, 1)],
            view=match_view(matches, db),
        )


async def setup(bot) -> None:
    await bot.add_cog(Suggest(bot))
