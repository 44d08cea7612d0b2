"""/profile set, show, export and delete: what a learner knows, wants, and when their digest
comes; and everything stored about them, theirs to take or to erase."""

from __future__ import annotations

import io
import zoneinfo
from functools import lru_cache
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.common import Interaction, ack, guild_key, reply
from bot.embeds import profile_embed
from matcher.operations.privacy import delete_learner_data, export_learner_json
from matcher.operations.profiles import (
    WEEKDAYS,
    ProfileReply,
    show_profile_reply,
    update_profile_reply,
)

if TYPE_CHECKING:
    from bot.client import MatchBot

WEEKDAY_CHOICES = [app_commands.Choice(name=name, value=i) for i, name in enumerate(WEEKDAYS)]
PACE_CHOICES = [
    app_commands.Choice(name="easier: a step below what your work shows", value="easier"),
    app_commands.Choice(name="auto: follow your merged work (default)", value="auto"),
    app_commands.Choice(name="harder: a step above what your work shows", value="harder"),
]


@lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def profile_answer_embed(answer: ProfileReply) -> discord.Embed:
    """The profile embed; the next digest is when it really comes (a week that already had one,
    a first digest sent by `/digest on`, is skipped)."""
    view = answer.view
    assert view is not None
    when = answer.next_digest
    return profile_embed(
        view.learner,
        identity=view.identity,
        next_digest=discord.utils.format_dt(when, "F") if when is not None else None,
        level=view.level,
    )


class Profile(
    commands.GroupCog,
    group_name="profile",
    group_description="Your skills, niche and digest schedule",
):
    def __init__(self, bot: MatchBot):
        self.bot = bot
        super().__init__()

    @app_commands.command(
        name="set", description="Set or change your profile (only the fields you give change)"
    )
    @app_commands.describe(
        skills="What you know, comma-separated: python, pytorch, pandas",
        niche="What you want to work on: nlp, computer vision, mlops ...",
        languages="Programming languages you write: python, rust ...",
        github="Your GitHub login (for your contribution portfolio)",
        digest_day="Weekday of your weekly digest",
        digest_hour="Hour of your weekly digest (0-23, in your time zone)",
        timezone="Your time zone, e.g. Europe/Berlin",
        pace="Easier or harder issues than your merged work suggests",
    )
    @app_commands.choices(digest_day=WEEKDAY_CHOICES)
    @app_commands.choices(pace=PACE_CHOICES)
    async def set_profile(
        self,
        interaction: Interaction,
        skills: str | None = None,
        niche: str | None = None,
        languages: str | None = None,
        github: str | None = None,
        digest_day: app_commands.Choice[int] | None = None,
        digest_hour: app_commands.Range[int, 0, 23] | None = None,
        timezone: str | None = None,
        pace: app_commands.Choice[str] | None = None,
    ) -> None:
        await ack(interaction)
        answer = await self.bot.light(
            update_profile_reply,
            self.bot.db,
            str(interaction.user.id),
            guild_id=guild_key(interaction),
            now=discord.utils.utcnow(),
            skills=skills,
            niche=niche,
            languages=languages,
            github_login=github,
            digest_weekday=digest_day.value if digest_day else None,
            digest_hour=digest_hour,
            timezone=timezone,
            pace=pace.value if pace else None,
        )
        view = answer.view
        assert view is not None  # a save returns the profile, or raises ProfileError
        tip = (
            ""
            if view.learner.digest_enabled
            else " `/digest on` sends you a first digest now, then one a week."
        )
        text = f"Profile saved.{tip} Try `/suggest` for matches now."
        if view.link is not None:
            text += (
                f"\nTo prove **{view.link.login}** is yours: {view.link.instructions}\n"
                f"Then run `/github verify`.\n`{view.link.code}`"
            )
        await reply(interaction, text, embeds=[profile_answer_embed(answer)], notice=answer.notice)

    @set_profile.autocomplete("timezone")
    async def timezone_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        needle = current.lower().replace(" ", "_")
        found = [z for z in _zones() if needle in z.lower()][:25]
        return [app_commands.Choice(name=z, value=z) for z in found]

    @app_commands.command(name="show", description="Show your profile and digest schedule")
    async def show_profile(self, interaction: Interaction) -> None:
        await ack(interaction)
        answer = await self.bot.light(
            show_profile_reply, self.bot.db, str(interaction.user.id), now=discord.utils.utcnow()
        )
        if answer.view is None:
            await reply(
                interaction,
                "You have no profile yet: start with `/profile set skills: python, pytorch`.",
                notice=answer.notice,
            )
            return
        await reply(interaction, embeds=[profile_answer_embed(answer)], notice=answer.notice)

    @app_commands.command(
        name="export", description="Get a JSON file of everything stored about you"
    )
    async def export(self, interaction: Interaction) -> None:
        await ack(interaction)
        learner_id = str(interaction.user.id)
        text = await self.bot.light(export_learner_json, self.bot.db, learner_id)
        await interaction.followup.send(
            "Everything stored about you, as JSON. `/profile delete` erases it.",
            file=discord.File(io.BytesIO(text.encode("utf-8")), filename=export_name(learner_id)),
            ephemeral=True,
        )

    @app_commands.command(name="delete", description="Delete everything stored about you")
    async def delete(self, interaction: Interaction) -> None:
        await reply(
            interaction,
            "Delete everything stored about you: profile, suggestions and your answers, claims, "
            "digests, GitHub link and portfolio? This cannot be undone "
            "(`/profile export` first keeps a copy).",
            view=ConfirmDelete(str(interaction.user.id)),
        )


def export_name(learner_id: str) -> str:
    """The file name of a learner's export."""
    return f"ml-first-issues-{learner_id}.json"


class ConfirmDelete(discord.ui.View):
    """The confirmation under /profile delete: nothing is deleted until the learner presses it.

    Not persistent on purpose: after a restart or two minutes, the learner asks again.
    """

    def __init__(self, learner_id: str, *, timeout: float = 120):
        super().__init__(timeout=timeout)
        self.learner_id = learner_id

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        return str(interaction.user.id) == self.learner_id

    @discord.ui.button(label="Delete everything", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.defer()  # answer first: the delete touches every table
        report = await interaction.client.light(
            delete_learner_data, interaction.client.db, self.learner_id
        )
        await interaction.edit_original_response(content=report.message, view=None)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was deleted.", view=None)

    async def on_error(  # type: ignore[override]
        self, interaction: Interaction, error: Exception, item: discord.ui.Item
    ) -> None:
        await interaction.client.tree.on_error(interaction, error)  # type: ignore[arg-type]


async def setup(bot: MatchBot) -> None:
    await bot.add_cog(Profile(bot))
