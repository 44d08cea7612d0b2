"""Bot fixtures: a real store with a few issues, the real engine with a hashing embedder, and the
real bot run by simcord against its in-memory Discord."""

from __future__ import annotations

import pytest

from bot.client import MatchBot
from bot.settings import BotSettings
from matcher.engine import MatchEngine
from matcher.store import Database
from matcher.store.issues import upsert_issues
from tests.bot.fakes import ISSUES, HashingEmbedder


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.sqlite'}"
    db = Database(url)
    upsert_issues(db, ISSUES)
    db.close()
    return url


@pytest.fixture
def bot_settings():
    return BotSettings(sync_commands="global", digest_check_seconds=3600, suggest_count=3)


def make_bot(db_url: str, bot_settings: BotSettings, matcher_settings) -> MatchBot:
    """A fresh bot process: its own store handle and engine, on the same database file."""
    db = Database(db_url)
    engine = MatchEngine(db, matcher_settings, embedder=HashingEmbedder())
    return MatchBot(settings=bot_settings, db=db, engine=engine)


@pytest.fixture
def simcord_bot(db_url, bot_settings, settings):
    bot = make_bot(db_url, bot_settings, settings)
    yield bot
    bot.db.close()


@pytest.fixture
def world(simcord_env):
    """A server with a general channel, an admin and two learners."""
    import discord

    env = simcord_env
    guild = env.create_guild("ML Learners")
    channel = guild.create_text_channel("general")
    admins = guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    admin = guild.add_member(env.create_user("ada"), roles=[admins])
    alice = guild.add_member(env.create_user("alice"))
    bob = guild.add_member(env.create_user("bob"))
    return env, guild, channel, admin, alice, bob
