"""/server ...: community settings, for members with Manage Server only."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.common import Interaction, ack, reply
from matcher.models import GuildConfig
from matcher.operations.communities import get_guild_config, set_focus, update_guild_config
from matcher.operations.inputs import fit_list
from matcher.operations.profiles import with_notice

if TYPE_CHECKING:
    from bot.client import MatchBot


REPOS_ECHO, NICHES_ECHO = 1100, 600  # with the labels, under Discord's 2,000 characters


def describe(config: GuildConfig | None) -> str:
    if config is None:
        return (
            "No settings yet: digests go by DM only, and all repositories and niches are in focus."
        )
    channel = f"<#{config.digest_channel_id}>" if config.digest_channel_id else "none (DM only)"
    # settings saved before the limits may be longer: cut, with "+N more", never a failed reply
    repos = fit_list(config.focus_repos, REPOS_ECHO)
    niches = fit_list(config.focus_niches, NICHES_ECHO)
    return (
        f"Digest fallback channel: {channel}\nFocus repositories: {repos}\nFocus niches: {niches}"
    )


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ServerSettings(
    commands.GroupCog, group_name="server", group_description="Community settings (admins)"
):
    """default_permissions hides the group from members; the check below enforces it server-side,
    because server owners can override command visibility in their integration settings."""

    def __init__(self, bot: MatchBot):
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage()
        permissions = interaction.permissions
        if not (permissions.manage_guild or permissions.administrator):
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    @app_commands.command(
        name="digest-channel", description="Where digests go when a learner's DMs are closed"
    )
    @app_commands.describe(channel="A text channel; leave empty to send digests by DM only")
    async def digest_channel(
        self, interaction: Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        await ack(interaction)
        if channel is not None and interaction.guild is not None:
            me = interaction.guild.me
            if me is not None and not channel.permissions_for(me).send_messages:
                await reply(
                    interaction,
                    f"I can't send messages in {channel.mention}; "
                    "give me Send Messages there first.",
                )
                return
        config, notice = await self.bot.light(
            with_notice,
            self.bot.db,
            str(interaction.user.id),
            update_guild_config,
            self.bot.db,
            str(interaction.guild_id),
            digest_channel_id=channel.id if channel else None,
        )
        await reply(interaction, "Saved.\n" + describe(config), notice=notice)

    @app_commands.command(
        name="focus", description="Which repositories or niches this community focuses on"
    )
    @app_commands.describe(
        repos="owner/name, comma-separated (e.g. huggingface/transformers); '-' clears",
        niches="niches, comma-separated (e.g. nlp, vision); '-' clears",
    )
    async def focus(
        self, interaction: Interaction, repos: str | None = None, niches: str | None = None
    ) -> None:
        await ack(interaction)
        (config, changed), notice = await self.bot.light(
            with_notice,
            self.bot.db,
            str(interaction.user.id),
            set_focus,
            self.bot.db,
            str(interaction.guild_id),
            repos=repos,
            niches=niches,
        )
        await reply(interaction, ("Saved.\n" if changed else "") + describe(config), notice=notice)

    @app_commands.command(name="show", description="Show this community's settings")
    async def show(self, interaction: Interaction) -> None:
        await ack(interaction)
        config, notice = await self.bot.light(
            with_notice,
            self.bot.db,
            str(interaction.user.id),
            get_guild_config,
            self.bot.db,
            str(interaction.guild_id),
        )
        await reply(interaction, describe(config), notice=notice)


async def setup(bot: MatchBot) -> None:
    await bot.add_cog(ServerSettings(bot))
