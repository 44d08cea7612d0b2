"""End to end: the unmodified bot against a fake Discord on 127.0.0.1 (REST + gateway websocket)."""

import asyncio

import discord

from bot.__main__ import build_bot
from bot.settings import load_bot_settings
from matcher.health import beat_age
from matcher.operations.profiles import clean_profile_update, save_profile
from matcher.operations.suggestions import suggestions_for
from matcher.store import Database
from matcher.store.issues import upsert_issues
from tests.bot.fakes import ISSUES, HashingEmbedder
from tests.fakes.discord_gateway import APP_ID

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123"
LEARNER = "424242424242424242"


async def test_suggest_round_trip(fake_discord, tmp_path, monkeypatch, settings):
    url = f"sqlite:///{tmp_path / 'e2e.sqlite'}"
    db = Database(url)
    upsert_issues(db, ISSUES)
    save_profile(
        db, LEARNER, clean_profile_update(skills="python, pytorch, tokenizer", niche="nlp")
    )
    db.close()
    monkeypatch.setenv("BOT_SYNC_COMMANDS", "global")
    monkeypatch.setenv("MATCHER_HEALTH_DIR", str(tmp_path / "health"))
    settings = settings.model_copy(update={"database_url": url})

    bot = build_bot(load_bot_settings(), settings, embedder=HashingEmbedder())
    async with bot:
        runner = asyncio.create_task(bot.start(TOKEN))
        try:
            # Fail fast if the bot dies during start-up instead of waiting for a timeout.
            ready = asyncio.ensure_future(bot.wait_until_ready())
            await asyncio.wait({ready, runner}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
            if runner.done():
                runner.result()
            assert ready.done(), "the bot did not become ready"

            # Connected with its loops alive: the beat the image's HEALTHCHECK reads is written.
            for _ in range(50):
                if beat_age("bot") is not None:
                    break
                await asyncio.sleep(0.1)
            assert beat_age("bot") is not None and beat_age("bot") < 60
            assert bot.failed_loops() == []

            # Start-up: logged in with the token, minimal intents, commands synced globally.
            assert fake_discord.requests[0].authorization == f"Bot {TOKEN}"
            assert fake_discord.identify["intents"] == discord.Intents(guilds=True).value
            sync = await fake_discord.wait_for_request("PUT", f"/applications/{APP_ID}/commands")
            assert {"digest", "help", "profile", "server", "suggest"} <= {
                c["name"] for c in sync.json
            }
            suggest_id = next(
                c["id"] for c in fake_discord.commands["global"] if c["name"] == "suggest"
            )

            # A learner runs /suggest in a DM with the bot.
            dm = fake_discord.snowflake()
            await fake_discord.dispatch(
                "INTERACTION_CREATE",
                {
                    "id": fake_discord.snowflake(),
                    "application_id": str(APP_ID),
                    "type": 2,
                    "token": "interaction-token-1",
                    "version": 1,
                    "data": {"id": suggest_id, "name": "suggest", "type": 1},
                    "channel_id": dm,
                    "channel": {"id": dm, "type": 1},
                    "user": {
                        "id": LEARNER,
                        "username": "alice",
                        "discriminator": "0",
                        "avatar": None,
                        "global_name": None,
                    },
                    "context": 1,
                    "app_permissions": "0",
                    "locale": "en-US",
                    "entitlements": [],
                    "authorizing_integration_owners": {"1": LEARNER},
                    "attachment_size_limit": 10_485_760,
                },
            )

            callback = await fake_discord.wait_for_request("POST", "/callback")
            assert callback.json == {"type": 5, "data": {"flags": 64}}  # deferred, ephemeral
            reply = await fake_discord.wait_for_request(
                "POST", f"/webhooks/{APP_ID}/interaction-token-1"
            )
        finally:
            await bot.close()
            await asyncio.wait_for(runner, 10)

    body = reply.json
    assert body["content"].startswith("Your top 3 matches")
    assert body["flags"] & 64
    assert body["embeds"][0]["url"].startswith("https://github.com/huggingface/")
    assert body["allowed_mentions"] == {"parse": []}
    ids = [c["custom_id"] for row in body["components"] for c in row["components"]]
    assert len(ids) == 9 and ids[0].startswith("match:interested:")
    assert not fake_discord.unknown, fake_discord.unknown
    check = Database(url)
    assert len(suggestions_for(check, LEARNER)) == 3
    check.close()
