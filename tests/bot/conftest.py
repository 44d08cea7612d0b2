"""Bot fixtures: a real store with a few issues, the real engine with a hashing embedder, and the
real bot run by simcord against its in-memory Discord."""

from __future__ import annotations

import asyncio
import sys
import traceback
from pathlib import Path

import pytest

import bot
from bot.client import MatchBot
from bot.settings import BotSettings
from matcher.engine import MatchEngine
from matcher.store import Database
from matcher.store.issues import upsert_issues
from tests.bot.fakes import ISSUES, HashingEmbedder
from tests.fakes.discord_gateway import FakeDiscord

BUSY_MACHINE_SETTLE_SECONDS = 30.0


def pytest_collection_modifyitems(items):
    """simcord gives up on a bot that has not settled after 5 s of real time; with the suite on
    every core (pytest-xdist) beside other jobs, a slow machine is not a hang. A test that sets
    its own simcord options keeps them."""
    for item in items:
        if item.nodeid.startswith("tests/bot/") and not item.get_closest_marker("simcord"):
            item.add_marker(pytest.mark.simcord(settle_timeout=BUSY_MACHINE_SETTLE_SECONDS))


BOT_DIR = str(Path(bot.__file__).resolve().parent)
LOOP_CALLS: list[str] = []  # stacks of store calls the bot made on the event loop's thread


def _bot_frame_on_stack() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith(BOT_DIR):
            return True
        frame = frame.f_back
    return False


class LoopGuardedDatabase(Database):
    """The real store, except that a session the bot opens on the event loop's thread fails.

    The bot must run every store call through run_blocking (a worker thread); a test's own
    reads from the loop's thread are allowed, since no bot code is on their stack.
    """

    def session(self):  # type: ignore[override]
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return super().session()  # a worker thread: fine
        if _bot_frame_on_stack():
            stack = "".join(traceback.format_stack(limit=12))
            LOOP_CALLS.append(stack)
            raise AssertionError(f"the bot called the store on the event loop:\n{stack}")
        return super().session()


@pytest.fixture(autouse=True)
def no_store_call_on_the_loop():
    """Every bot test fails if the bot touched the store from the event loop's thread."""
    LOOP_CALLS.clear()
    yield
    assert not LOOP_CALLS, "store calls on the event loop:\n" + "\n".join(LOOP_CALLS)


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.sqlite'}"
    db = Database(url)
    upsert_issues(db, ISSUES)
    db.close()
    return url


@pytest.fixture
def bot_settings():
    # no cooldowns: tests ask again at once (tests/bot/exts/test_cooldowns.py turns them on)
    return BotSettings(
        sync_commands="global",
        digest_check_seconds=3600,
        suggest_count=3,
        suggest_cooldown_seconds=0,
        verify_cooldown_seconds=0,
    )


def make_bot(db_url: str, bot_settings: BotSettings, matcher_settings, **factories) -> MatchBot:
    """A fresh bot process: its own store handle and engine, on the same database file."""
    db = LoopGuardedDatabase(db_url)
    engine = MatchEngine(db, matcher_settings, embedder=HashingEmbedder())
    return MatchBot(settings=bot_settings, db=db, engine=engine, **factories)


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


@pytest.fixture
async def fake_discord(monkeypatch):
    """A fake Discord (REST + gateway websocket) on 127.0.0.1 that discord.py is pointed at."""
    fake = await FakeDiscord().start()
    fake.patch(monkeypatch)
    yield fake
    await fake.stop()
