"""Sharding from settings: a process runs the shards it is given; without settings, no sharding."""

from __future__ import annotations

import asyncio

from discord.ext import commands

from bot.__main__ import build_bot
from bot.settings import load_bot_settings
from matcher.store import Database
from matcher.store.issues import upsert_issues
from tests.bot.burst import TOKEN
from tests.bot.fakes import ISSUES, HashingEmbedder


async def run_until_ready(bot) -> None:
    runner = asyncio.create_task(bot.start(TOKEN))
    try:
        ready = asyncio.ensure_future(bot.wait_until_ready())
        await asyncio.wait({ready, runner}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if runner.done():
            runner.result()
        assert ready.done(), "the bot did not become ready"
    finally:
        await bot.close()
        await asyncio.wait_for(runner, 10)


def store(tmp_path, settings):
    url = f"sqlite:///{tmp_path / 'shards.sqlite'}"
    db = Database(url)
    upsert_issues(db, ISSUES)
    db.close()
    return settings.model_copy(update={"database_url": url})


async def test_a_process_identifies_as_the_shard_it_is_given(fake_discord, tmp_path, settings):
    bot_settings = load_bot_settings(sync_commands="off", shard_count=2, shard_ids="1")
    bot = build_bot(bot_settings, store(tmp_path, settings), embedder=HashingEmbedder())
    assert isinstance(bot, commands.AutoShardedBot)
    async with bot:
        await run_until_ready(bot)
    assert fake_discord.identify is not None
    assert fake_discord.identify["shard"] == [1, 2]
    assert bot.shard_ids == [1] and bot.shard_count == 2


async def test_without_shard_settings_one_connection_as_before(fake_discord, tmp_path, settings):
    bot = build_bot(
        load_bot_settings(sync_commands="off"),
        store(tmp_path, settings),
        embedder=HashingEmbedder(),
    )
    assert not isinstance(bot, commands.AutoShardedBot)
    async with bot:
        await run_until_ready(bot)
    assert fake_discord.identify is not None and "shard" not in fake_discord.identify
