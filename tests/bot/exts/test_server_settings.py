"""/server settings: admins only, checked on our side too."""

import discord

from matcher.operations.communities import get_guild_config


async def test_admin_sets_channel_and_focus(world):
    env, guild, channel, admin, alice, bob = world
    digests = guild.create_text_channel("digests")
    result = await admin.slash(channel, "server digest-channel", channel=digests)
    assert result.ephemeral and f"<#{digests.id}>" in result.response.content
    result = await admin.slash(
        channel, "server focus", repos="huggingface/transformers, pytorch/vision", niches="NLP"
    )
    assert "huggingface/transformers, pytorch/vision" in result.response.content
    config = get_guild_config(env.bot.db, str(guild.id))
    assert config.digest_channel_id == str(digests.id) and config.focus_niches == ("nlp",)
    cleared = await admin.slash(channel, "server focus", repos="-")
    assert "Focus repositories: all" in cleared.response.content
    shown = await admin.slash(channel, "server show")
    assert "Focus niches: nlp" in shown.response.content


async def test_bad_repo_name_is_explained(world):
    env, guild, channel, admin, alice, bob = world
    result = await admin.slash(channel, "server focus", repos="transformers")
    assert result.ephemeral and "use owner/name" in result.response.content


async def test_members_cannot_change_settings(world):
    env, guild, channel, admin, alice, bob = world
    # Discord hides the group from members (default_permissions) ...
    assert "server focus" not in alice.available_commands(channel)
    assert "server focus" in admin.available_commands(channel)
    # ... and if the server owner lets a member use it anyway, our own check still refuses.
    command_id = int(env.backend.find_command("server", None)["id"])
    guild.set_command_permissions(command_id, {alice: True})
    result = await alice.slash(channel, "server focus", repos="evil/repo")
    assert (
        result.ephemeral
        and result.response.content == "You need the Manage Server permission for this."
    )
    assert get_guild_config(env.bot.db, str(guild.id)) is None


async def test_permission_check_runs_server_side():
    """The cog check itself, for an interaction from a member without Manage Server."""
    from types import SimpleNamespace

    import pytest
    from discord import app_commands

    from bot.exts.server_settings import ServerSettings

    cog = ServerSettings.__new__(ServerSettings)
    member = SimpleNamespace(guild=object(), permissions=discord.Permissions.none())
    with pytest.raises(app_commands.MissingPermissions):
        await cog.interaction_check(member)
    admin = SimpleNamespace(guild=object(), permissions=discord.Permissions(manage_guild=True))
    assert await cog.interaction_check(admin)
