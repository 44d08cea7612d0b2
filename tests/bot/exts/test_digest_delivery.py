"""Digest delivery neither lost nor doubled, against the loopback fake Discord (REST + gateway).

A digest reserved but never confirmed (the process died, or an error came between reserve and
confirm) is retried by a later pass; the retry finds the DM an earlier attempt sent, and when it
cannot look, it resends with the same nonce, which Discord (here: the fake) deduplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import discord
import pytest

import matcher.operations.digests as digest_ops
from bot.__main__ import build_bot
from bot.settings import load_bot_settings
from matcher.digest import Schedule, next_slot
from matcher.operations.digests import STALE_AFTER, deliveries, digest_nonce
from matcher.operations.profiles import clean_profile_update, save_profile, set_digest
from matcher.operations.suggestions import suggestions_for
from matcher.store import Database
from matcher.store.issues import upsert_issues
from tests.bot.conftest import LoopGuardedDatabase
from tests.bot.fakes import ISSUES, HashingEmbedder
from tests.fakes.discord_gateway import NONCE_WINDOW

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123"
LEARNER = "424242424242424242"


@pytest.fixture
def store_url(tmp_path, settings):
    """A store with the bot's issues and one learner whose digest is due at `slot` (not now)."""
    url = f"sqlite:///{tmp_path / 'digest.sqlite'}"
    db = Database(url)
    upsert_issues(db, ISSUES)
    since = discord.utils.utcnow() + timedelta(days=1)  # the real clock never makes it due
    save_profile(db, LEARNER, clean_profile_update(skills="python, pytorch, tokenizer"), now=since)
    set_digest(db, LEARNER, True, now=since)
    db.close()
    return url, next_slot(Schedule(0, 9, "UTC"), since) + timedelta(minutes=1)


@contextlib.asynccontextmanager
async def running_bot(url, settings, monkeypatch):
    monkeypatch.setenv("BOT_SYNC_COMMANDS", "off")
    monkeypatch.setattr("matcher.operations.Database", LoopGuardedDatabase)
    bot = build_bot(
        load_bot_settings(),
        settings.model_copy(update={"database_url": url}),
        embedder=HashingEmbedder(),
    )
    async with bot:
        runner = asyncio.create_task(bot.start(TOKEN))
        ready = asyncio.ensure_future(bot.wait_until_ready())
        await asyncio.wait({ready, runner}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
        if runner.done():
            runner.result()
        try:
            yield bot
        finally:
            await bot.close()
            await asyncio.wait_for(runner, 10)


def _fail_once_after_sending(monkeypatch):
    """The first confirmation fails, as if the process died right after Discord took the DM.

    Patched where the extension imports it from: discord.py loads extensions as fresh modules.
    """
    real = digest_ops.record_delivery
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args[2])
        if len(calls) == 1:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(digest_ops, "record_delivery", flaky)
    return calls


def _posts(fake):
    return [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]


async def test_unconfirmed_digest_is_retried_and_finds_the_dm_it_sent(
    fake_discord, store_url, settings, monkeypatch
):
    url, slot = store_url
    calls = _fail_once_after_sending(monkeypatch)
    async with running_bot(url, settings, monkeypatch) as bot:
        cog = bot.get_cog("Digest")
        first = await cog.run_due(slot)
        assert first.outcomes == {"error": 1} and len(fake_discord.dms_to(LEARNER)) == 1
        check = Database(url)
        assert [d.status for d in deliveries(check, LEARNER)] == ["sending"]
        # Too soon: the reservation may still belong to a live pass.
        assert (await cog.run_due(slot + STALE_AFTER / 2)).outcomes == {}
        retry = await cog.run_due(slot + STALE_AFTER + timedelta(seconds=1))
    assert retry.outcomes == {"dm": 1} and calls == ["dm", "dm"]
    assert len(fake_discord.dms_to(LEARNER)) == 1  # found in the DM history, not sent again
    assert len(_posts(fake_discord)) == 1
    assert [(d.status, d.detail) for d in deliveries(check, LEARNER)] == [("dm", "retry")]
    sent = {e["url"] for e in fake_discord.dms_to(LEARNER)[0]["embeds"]}
    assert {s.issue_url for s in suggestions_for(check, LEARNER) if s.digested_at} == sent
    check.close()


async def test_a_retry_that_cannot_read_the_dms_is_deduplicated_by_the_nonce(
    fake_discord, store_url, settings, monkeypatch
):
    url, slot = store_url
    _fail_once_after_sending(monkeypatch)
    fake_discord.refuse_history = True
    async with running_bot(url, settings, monkeypatch) as bot:
        cog = bot.get_cog("Digest")
        await cog.run_due(slot)
        retry = await cog.run_due(slot + STALE_AFTER + timedelta(seconds=1))
    assert retry.outcomes == {"dm": 1}
    posts = _posts(fake_discord)
    assert len(posts) == 2  # sent twice ...
    week = deliveries(Database(url), LEARNER)[0].week
    assert {p.json["nonce"] for p in posts} == {digest_nonce(LEARNER, week)}
    assert all(p.json["enforce_nonce"] for p in posts)
    assert len(fake_discord.dms_to(LEARNER)) == 1  # ... and delivered once


async def test_the_fake_forgets_a_nonce_after_a_few_minutes(fake_discord, settings, tmp_path):
    """The fake is honest about the window: the DM history, not the nonce, covers a late retry."""
    payload = {"content": "hi", "nonce": "n1", "enforce_nonce": True}
    first = fake_discord._create_message("c", payload)
    assert fake_discord._create_message("c", payload) is first
    fake_discord.advance_clock(NONCE_WINDOW + 1)
    assert fake_discord._create_message("c", payload)["id"] != first["id"]
    assert fake_discord._create_message("c", {"content": "x", "nonce": "n1"}) is not first
