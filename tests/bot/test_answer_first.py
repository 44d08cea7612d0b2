"""Answer first, work after: every command and button reaches Discord's callback (the
acknowledgement) before the bot opens its first store session for it."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from bot.client import MatchBot
from bot.settings import load_bot_settings
from matcher.engine import MatchEngine
from matcher.operations.profiles import clean_profile_update, save_profile
from matcher.operations.suggestions import record_suggestions
from matcher.store import Database
from matcher.store.issues import upsert_issues
from tests.bot import burst
from tests.bot.fakes import ISSUES, HashingEmbedder


class RecordingDatabase(Database):
    """The real store, noting when each session opens (monotonic seconds)."""

    def __init__(self, url: str):
        super().__init__(url)
        self.opened: list[float] = []
        self._lock = threading.Lock()

    def session(self):  # type: ignore[override]
        with self._lock:
            self.opened.append(time.monotonic())
        return super().session()


def sub(name: str, *options: dict) -> list[dict]:
    return [{"name": name, "type": 1, "options": list(options)}]


COMMANDS = {
    "suggest": ("suggest", []),
    "profile set": ("profile", sub("set", {"name": "niche", "type": 3, "value": "vision"})),
    "profile show": ("profile", sub("show")),
    "digest on": ("digest", sub("on")),
    "digest off": ("digest", sub("off")),
    "portfolio": ("portfolio", []),
    "github verify": ("github", sub("verify")),
    "github link": ("github", sub("link", {"name": "login", "type": 3, "value": "octo-cat"})),
}


@pytest.fixture
async def running_bot(tmp_path, monkeypatch, settings):
    url = f"sqlite:///{tmp_path / 'first.sqlite'}"
    seed = Database(url)
    upsert_issues(seed, ISSUES)
    learner = burst.new_learner()
    save_profile(seed, learner, clean_profile_update(skills="python, pytorch", niche="nlp"))
    key = record_suggestions(seed, learner, [ISSUES[0].url], via="suggest")[ISSUES[0].url]
    seed.close()
    fake = await burst.TimedFake().start()
    fake.patch(monkeypatch)
    db = RecordingDatabase(url)
    engine = MatchEngine(db, settings, embedder=HashingEmbedder())

    class NoGitHub:  # /github link must not reach the internet; the refusal comes after the ack
        def __call__(self):
            raise RuntimeError("no GitHub in this test")

    bot = MatchBot(
        settings=load_bot_settings(sync_commands="global"),
        db=db,
        engine=engine,
        pulls_client_factory=NoGitHub(),
    )
    async with bot:
        runner = asyncio.create_task(bot.start(burst.TOKEN))
        await asyncio.wait_for(bot.wait_until_ready(), 30)
        await fake.wait_for_request("PUT", "/commands")
        await asyncio.wait_for(bot._warm_up, 30)
        digest = bot.get_cog("Digest")
        for _ in range(100):  # the digest loop's first pass at start-up is over
            if getattr(digest, "last_report", None) is not None:
                break
            await asyncio.sleep(0.05)
        try:
            yield bot, fake, learner, key
        finally:
            await bot.close()
            await asyncio.wait_for(runner, 10)
            await fake.stop()
            db.close()


async def answered(fake, item: burst.Sent) -> dict:
    result = burst.BurstResult([item])
    for _ in range(400):
        burst.collect(fake, result)
        if not result.missing():
            return result.answers[item.token]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{item.kind} was not answered")


async def test_every_interaction_is_acknowledged_before_the_store_is_touched(running_bot):
    bot, fake, learner, key = running_bot
    ids = burst.command_ids(fake)
    kinds = [*COMMANDS, "button"]
    for n, kind in enumerate(kinds):
        token = f"first-{n}"
        if kind == "button":
            payload = burst.button_payload(fake, learner, token, f"match:dismiss:{key}")
        else:
            name, options = COMMANDS[kind]
            data = {"id": ids[name], "name": name, "type": 1, "options": options}
            payload = burst._base(fake, learner, 2, token, data)
        item = burst.Sent(kind, learner, payload["id"], token, time.monotonic())
        bot.db.opened.clear()
        await fake.dispatch("INTERACTION_CREATE", payload)
        await answered(fake, item)
        callback = f"POST /api/v10/interactions/{item.interaction_id}/{token}/callback"
        acknowledged = fake.arrivals[callback]
        if kind != "github link":  # its GitHub client fails here before it reaches the store
            assert bot.db.opened, f"{kind} never used the store"
        assert acknowledged < min(bot.db.opened, default=float("inf")), kind
        body = next(r.json for r in fake.requests if r.path.endswith(f"{token}/callback"))
        assert body["type"] == 5, kind  # deferred: "thinking..."
