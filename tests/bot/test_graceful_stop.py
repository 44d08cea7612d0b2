"""SIGTERM during a digest pass: the DM in flight is finished, the unsent digests are given back,
the gateway is closed and the process exits 0; after a restart every learner has exactly one
digest (nothing sent twice, nothing lost)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from bot.__main__ import build_bot
from bot.settings import load_bot_settings
from matcher.operations.digests import deliveries
from matcher.operations.profiles import clean_profile_update, save_profile, set_digest
from matcher.store import Database
from matcher.store.issues import upsert_issues
from tests.bot import burst
from tests.bot.fakes import ISSUES, HashingEmbedder

ROOT = Path(__file__).resolve().parents[2]
LEARNERS = 6

# A bot process as `python -m bot` runs it (run(): signal handlers, graceful close), with the
# test embedder and discord.py pointed at the loopback fake.
DRIVER = """
import asyncio, logging, sys
import discord.gateway, discord.http, yarl
from bot.__main__ import run
from bot.settings import load_bot_settings
from matcher.settings import load_settings
from tests.bot.fakes import HashingEmbedder

discord.http.Route.BASE = sys.argv[1]
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(sys.argv[2])
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
asyncio.run(run(sys.argv[3], load_bot_settings(), load_settings(), embedder=HashingEmbedder()))
print("exited cleanly", file=sys.stderr)
"""


class SlowDMs(burst.TimedFake):
    """Discord taking its time over each message, so a stop lands in the middle of a pass."""

    delay = 0.4

    async def _rest(self, request: web.Request) -> web.Response:
        if request.method == "POST" and request.path.endswith("/messages"):
            await asyncio.sleep(self.delay)
        return await super()._rest(request)


def seed_due(url: str) -> list[str]:
    """Learners whose weekly slot was an hour ago, with digests on since last week."""
    now = datetime.now(UTC)
    slot = now - timedelta(hours=1)
    db = Database(url)
    upsert_issues(db, ISSUES)
    learners = [burst.new_learner() for _ in range(LEARNERS)]
    for learner in learners:
        update = clean_profile_update(
            skills="python, pytorch, tokenizer",
            niche="nlp",
            digest_weekday=slot.weekday(),
            digest_hour=slot.hour,
            timezone="UTC",
        )
        save_profile(db, learner, update, now=now - timedelta(days=8))
        set_digest(db, learner, True, now=now - timedelta(days=8))
    db.close()
    return learners


def digests_sent(fake: burst.TimedFake, learner: str) -> int:
    return sum(m["content"].startswith("Your weekly matches") for m in fake.dms_to(learner))


async def test_sigterm_mid_pass_finishes_or_gives_back_then_a_restart_sends_the_rest(
    tmp_path, monkeypatch, settings
):
    url = f"sqlite:///{tmp_path / 'stop.sqlite'}"
    learners = seed_due(url)
    fake = await SlowDMs().start()
    fake.patch(monkeypatch)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MATCHER_DATABASE_URL": url,
        "BOT_SYNC_COMMANDS": "global",
        "BOT_DIGEST_CONCURRENCY": "1",
        "BOT_STOP_GRACE_SECONDS": "10",
        "HF_HUB_OFFLINE": "1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        DRIVER,
        fake.rest_base,
        fake.gateway_url,
        burst.TOKEN,
        cwd=str(ROOT),
        env=env,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(1200):  # the first digest DM is on its way
            if any(m for learner in learners for m in fake.dms_to(learner)):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("no digest was sent")
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
    log = stderr.decode()
    assert process.returncode == 0, log[-3000:]
    assert "SIGTERM received: stopping gracefully" in log and "exited cleanly" in log

    db = Database(url)
    try:
        after_stop = deliveries(db)
    finally:
        db.close()
    sent_before = [x for x in learners if digests_sent(fake, x)]
    assert 1 <= len(sent_before) < LEARNERS  # stopped mid-pass
    # every DM sent was recorded; nothing is left half-reserved for the next process to guess
    assert sorted(d.learner_id for d in after_stop) == sorted(sent_before)
    assert {d.status for d in after_stop} == {"dm"}

    # A restart (in this process) sends the rest, and nobody twice.
    restarted = build_bot(
        load_bot_settings(sync_commands="off", digest_concurrency=5),
        settings.model_copy(update={"database_url": url}),
        embedder=HashingEmbedder(),
    )
    async with restarted:
        runner = asyncio.create_task(restarted.start(burst.TOKEN))
        try:
            for _ in range(600):
                if all(digests_sent(fake, x) for x in learners):
                    break
                await asyncio.sleep(0.05)
        finally:
            await restarted.close()
            await asyncio.wait_for(runner, 20)
    await fake.stop()
    assert [digests_sent(fake, x) for x in learners] == [1] * LEARNERS
    check = Database(url)
    try:
        assert sorted(d.learner_id for d in deliveries(check)) == sorted(learners)
    finally:
        check.close()
