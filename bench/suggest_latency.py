"""/suggest latency: the unmodified bot against the loopback fake Discord, with a large store.

    python bench/suggest_latency.py [--issues 50000] [--requests 20] [--cache DIR]

Copies bench/scale.py's store of that size (built there if missing), starts the bot as
`python -m bot` builds it (one warm index; vectors already stored, as after `import`), waits for
its warm-up, then sends /suggest interactions one after another and prints the time from each
interaction's dispatch to the bot's reply (median, p95, max), the first one apart.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import scale  # noqa: E402

from bot.__main__ import build_bot  # noqa: E402
from bot.settings import load_bot_settings  # noqa: E402
from matcher.operations.profiles import clean_profile_update, save_profile  # noqa: E402
from matcher.settings import load_settings  # noqa: E402
from matcher.store import Database  # noqa: E402
from tests.fakes.discord_gateway import APP_ID, FakeDiscord  # noqa: E402

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123"
LEARNER = "424242424242424242"


def interaction(fake: FakeDiscord, command_id: str, token: str) -> dict:
    dm = fake.snowflake()
    user = {"id": LEARNER, "username": "a", "discriminator": "0", "avatar": None}
    return {
        "id": fake.snowflake(),
        "application_id": str(APP_ID),
        "type": 2,
        "token": token,
        "version": 1,
        "data": {"id": command_id, "name": "suggest", "type": 1},
        "channel_id": dm,
        "channel": {"id": dm, "type": 1},
        "user": {**user, "global_name": None},
        "context": 1,
        "app_permissions": "0",
        "locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"1": LEARNER},
        "attachment_size_limit": 10_485_760,
    }


async def measure(url: str, requests: int) -> list[float]:
    fake = await FakeDiscord().start()
    patch = pytest.MonkeyPatch()
    fake.patch(patch)
    patch.setenv("BOT_SYNC_COMMANDS", "global")
    patch.setenv("DISCORD_TOKEN", TOKEN)
    patch.setenv("BOT_SUGGEST_COOLDOWN_SECONDS", "0")  # one learner asks again and again
    settings = load_settings().model_copy(update={"database_url": url})
    bot = build_bot(load_bot_settings(), settings, embedder=scale.HashingEmbedder())
    latencies = []
    async with bot:
        runner = asyncio.create_task(bot.start(TOKEN))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), 60)
            started = time.perf_counter()
            await asyncio.wait_for(bot._warm_up, 600)
            print(f"warm-up (model and index): {time.perf_counter() - started:.1f} s")
            await fake.wait_for_request("PUT", f"/applications/{APP_ID}/commands")
            command = next(c["id"] for c in fake.commands["global"] if c["name"] == "suggest")
            for n in range(requests):
                token = f"interaction-token-{n}"
                started = time.perf_counter()
                await fake.dispatch("INTERACTION_CREATE", interaction(fake, command, token))
                await fake.wait_for_request("POST", f"/webhooks/{APP_ID}/{token}", timeout=60)
                latencies.append(time.perf_counter() - started)
        finally:
            await bot.close()
            await asyncio.wait_for(runner, 10)
            await fake.stop()
            patch.undo()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=50000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/matcher-scale-cache"))
    args = parser.parse_args()
    scale.store(args.issues, args.cache)[0].close()
    with tempfile.TemporaryDirectory() as tmp:
        source = args.cache / f"scale-{args.issues}.sqlite"
        for suffix in ("", "-wal"):  # the bot writes suggestions: it gets a copy
            if Path(f"{source}{suffix}").exists():
                shutil.copy(f"{source}{suffix}", Path(tmp) / f"bot.sqlite{suffix}")
        url = f"sqlite:///{tmp}/bot.sqlite"
        db = Database(url)
        save_profile(db, LEARNER, clean_profile_update(skills="python, pytorch", niche="nlp"))
        db.close()
        latencies = asyncio.run(measure(url, args.requests + 1))
    first, latencies = latencies[0], latencies[1:]
    print(f"first /suggest (opens the REST connection, encodes the profile): {1000 * first:.0f} ms")
    ms = sorted(1000 * t for t in latencies)
    print(
        f"/suggest with {args.issues:,} stored issues, {len(ms)} requests: median "
        f"{statistics.median(ms):.0f} ms, p95 {ms[int(0.95 * (len(ms) - 1))]:.0f} ms, "
        f"max {ms[-1]:.0f} ms (dispatch to reply, loopback fake Discord)"
    )


if __name__ == "__main__":
    main()
