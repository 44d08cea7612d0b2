"""The client: extension discovery, minimal intents, no pings, sync only when asked and changed."""

from pathlib import Path

import discord
from discord import app_commands

import bot.exts
from bot.client import MatchBot, bot_intents, discover_extensions
from matcher.engine import MatchEngine
from matcher.store import Database
from tests.bot.conftest import make_bot
from tests.bot.helpers import set_profile


def test_every_extension_is_discovered_error_handler_first(tmp_path, monkeypatch):
    found = discover_extensions()
    assert found[0] == "bot.exts.error_handler"
    assert {
        f"bot.exts.{n}"
        for n in ("error_handler", "digest", "help", "profile", "server_settings", "suggest")
    } <= set(found)
    # A new feature module (e.g. portfolio.py) is picked up with no edit to client.py.
    extra = tmp_path / "exts"
    extra.mkdir()
    (extra / "portfolio.py").write_text("async def setup(bot):\n    pass\n")
    (extra / "_private.py").write_text("")
    monkeypatch.setattr(bot.exts, "__path__", [*bot.exts.__path__, str(extra)])
    assert "bot.exts.portfolio" in discover_extensions()
    assert "bot.exts._private" not in discover_extensions()


def test_minimal_intents_and_no_mentions(simcord_bot):
    assert bot_intents() == discord.Intents(guilds=True)
    assert (
        not bot_intents().message_content
        and not bot_intents().members
        and not bot_intents().presences
    )
    assert simcord_bot.intents == bot_intents()
    mentions = simcord_bot.allowed_mentions
    assert (mentions.everyone, mentions.users, mentions.roles, mentions.replied_user) == (
        False,
        False,
        False,
        False,
    )


async def test_command_names_are_unique_and_described(world):
    env = world[0]
    commands = list(env.bot.tree.walk_commands())
    names = [c.qualified_name for c in commands]
    assert len(names) == len(set(names))
    assert all(c.description and c.description != "…" for c in commands)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "bot.md").read_text()
    leaves = [c.qualified_name for c in commands if isinstance(c, app_commands.Command)]
    missing = [n for n in leaves if f"/{n}" not in docs]
    assert not missing, f"undocumented in docs/bot.md: {missing}"


def _syncs(env):
    return [r for r in env.http_requests if r.method == "PUT" and r.path.endswith("/commands")]


async def test_commands_sync_once_not_on_every_start(world, db_url, bot_settings, settings):
    env, guild, channel, admin, alice, bob = world
    assert env.bot.synced == "global" and len(_syncs(env)) == 1
    old = env.bot
    await env.restart_bot(make_bot(db_url, bot_settings, settings))
    old.db.close()
    assert env.bot.synced is None and len(_syncs(env)) == 1  # unchanged commands: no sync
    await set_profile(alice, channel)  # and the commands still work
    env.bot.db.close()


async def test_sync_off_never_syncs(world, db_url, bot_settings, settings):
    env, guild, channel, admin, alice, bob = world
    old = env.bot
    quiet: MatchBot = make_bot(
        db_url, bot_settings.model_copy(update={"sync_commands": "off"}), settings
    )
    from matcher.store.meta import MetaRow

    with quiet.db.session() as session:
        session.query(MetaRow).delete()  # even a never-synced store does not sync when off
    await env.restart_bot(quiet)
    old.db.close()
    assert quiet.synced is None and len(_syncs(env)) == 1
    quiet.db.close()


async def test_guild_sync_targets_the_configured_guild(world, db_url, bot_settings, settings):
    env, guild, channel, admin, alice, bob = world
    old = env.bot
    await env.restart_bot(
        make_bot(
            db_url,
            bot_settings.model_copy(update={"sync_commands": "guild", "guild_id": guild.id}),
            settings,
        )
    )
    old.db.close()
    assert env.bot.synced == "guild"
    assert _syncs(env)[-1].path.endswith(f"/guilds/{guild.id}/commands")
    result = await alice.slash(channel, "help")
    assert "`/suggest`" in result.response.content
    env.bot.db.close()


def _http_error(kind, status, code, message):
    from types import SimpleNamespace

    return kind(SimpleNamespace(status=status, reason=message), {"code": code, "message": message})


async def test_refused_sync_is_one_config_error_not_a_traceback(db_url, bot_settings, settings):
    """Regression: a wrong BOT_GUILD_ID (403 Missing Access) crashed start-up with a traceback."""
    import pytest

    from matcher.errors import ConfigError
    from matcher.store.meta import get_meta

    bot = make_bot(
        db_url,
        bot_settings.model_copy(update={"sync_commands": "guild", "guild_id": 123}),
        settings,
    )
    bot._connection.application_id = 900
    await bot.load_extension("bot.exts.help")

    async def refuse(*, guild=None):
        raise _http_error(discord.Forbidden, 403, 50001, "Missing Access")

    bot.tree.sync = refuse
    with pytest.raises(ConfigError, match=r"server 123 \(BOT_GUILD_ID\): 403 Missing Access") as e:
        await bot.sync_commands()
    assert "\n" not in str(e.value) and "applications.commands" in str(e.value)

    async def down(*, guild=None):
        raise _http_error(discord.DiscordServerError, 503, 0, "Service Unavailable")

    bot.tree.sync = down
    await bot.sync_commands()  # a Discord outage is logged, start-up goes on
    assert bot.synced is None and get_meta(bot.db, "commands:900:guild:123") is None
    bot.db.close()


async def test_model_is_loaded_once_in_the_background_at_start(
    db_url, bot_settings, settings, monkeypatch, caplog
):
    import matcher.engine
    from matcher.errors import ModelLoadError
    from tests.bot.fakes import HashingEmbedder

    loads = []
    monkeypatch.setattr(
        matcher.engine, "load_embedder", lambda name: loads.append(name) or HashingEmbedder()
    )
    bot = MatchBot(
        settings=bot_settings, db=Database(db_url), engine=MatchEngine(Database(db_url), settings)
    )
    await bot.warm_up_model()
    assert bot.engine.embedder.name == "test-hashing-256"
    assert loads == [settings.model]  # loaded once, at start, not again on use

    def broken(name):
        raise ModelLoadError("cannot load embedding model 'x'")

    monkeypatch.setattr(matcher.engine, "load_embedder", broken)
    bot = MatchBot(
        settings=bot_settings, db=Database(db_url), engine=MatchEngine(Database(db_url), settings)
    )
    await bot.warm_up_model()  # logged, not raised: /suggest reports it to whoever asks
    assert "embedding model not loaded: cannot load embedding model 'x'" in caplog.text
