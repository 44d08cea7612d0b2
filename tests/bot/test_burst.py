"""A burst through the loopback Discord: every interaction acknowledged and answered, nothing lost.

No timing assertion: the 3 s figure belongs to bench/burst_ack.py. The metrics endpoint is scraped
before and after, and its counters must have moved by exactly what the burst did.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import urllib.request

import pytest

from bot.__main__ import build_bot
from bot.exts.error_handler import BUSY
from bot.settings import load_bot_settings
from matcher.operations.profiles import clean_profile_update, get_learner, save_profile
from matcher.operations.suggestions import record_suggestions, suggestions_for
from matcher.store import Database
from matcher.store.issues import upsert_issues
from tests.bot import burst
from tests.bot.fakes import ISSUES, HashingEmbedder
from tests.fakes.discord_gateway import APP_ID


@pytest.fixture
async def timed_fake(monkeypatch):
    fake = await burst.TimedFake().start()
    fake.patch(monkeypatch)
    yield fake
    await fake.stop()


def seed(url: str, suggesters: int, setters: int, pressers: int):
    """A store with the test issues; learners with profiles; pressers with a suggested issue."""
    db = Database(url)
    upsert_issues(db, ISSUES)
    asking = [burst.new_learner() for _ in range(suggesters)]
    setting = [burst.new_learner() for _ in range(setters)]
    pressing = [burst.new_learner() for _ in range(pressers)]
    for n, learner in enumerate(asking + setting + pressing):
        # distinct skills: every /suggest encodes a profile of its own
        skills = f"python, pytorch, tokenizer, topic{n}"
        save_profile(db, learner, clean_profile_update(skills=skills, niche="nlp"))
    buttons = []
    for learner in pressing:
        keys = record_suggestions(db, learner, [ISSUES[0].url], via="suggest")
        buttons.append((learner, f"match:interested:{keys[ISSUES[0].url]}"))
    db.close()
    return asking, setting, buttons


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value from the Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and ",".join(sorted((match.group(1) or "").split(","))) == wanted:
            return float(match.group(2))
    return 0.0


async def start(bot, fake) -> asyncio.Task:
    runner = asyncio.create_task(bot.start(burst.TOKEN))
    ready = asyncio.ensure_future(bot.wait_until_ready())
    await asyncio.wait({ready, runner}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if runner.done():
        runner.result()
    await fake.wait_for_request("PUT", f"/applications/{APP_ID}/commands")
    await asyncio.wait_for(bot._warm_up, 60)
    return runner


async def test_a_burst_is_acknowledged_and_nothing_is_lost(timed_fake, tmp_path, settings):
    url = f"sqlite:///{tmp_path / 'burst.sqlite'}"
    asking, setting, buttons = seed(url, suggesters=12, setters=4, pressers=4)
    bot_settings = load_bot_settings(
        sync_commands="global", metrics_port=0, metrics_addr="127.0.0.1", ranking_queue=100
    )
    bot = build_bot(
        bot_settings,
        settings.model_copy(update={"database_url": url}),
        embedder=HashingEmbedder(),
    )
    async with bot:
        runner = await start(bot, timed_fake)
        try:
            port = bot.metrics_server.port
            before = await asyncio.to_thread(scrape, port)
            result = await burst.burst(timed_fake, asking, setting, buttons, timeout=120)
            after = await asyncio.to_thread(scrape, port)
        finally:
            await bot.close()
            await asyncio.wait_for(runner, 10)

    assert result.missing() == [], [s.kind for s in result.missing()]
    for item in result.sent:
        content = result.answers[item.token].get("content", "")
        expected = {
            "suggest": "Your top 3 matches",
            "profile set": "Profile saved",
            "button": "Noted: you're interested",
        }[item.kind]
        assert content.startswith(expected), (item.kind, content)
    assert not timed_fake.unknown, timed_fake.unknown

    check = Database(url)
    try:
        for learner in asking:
            assert len(suggestions_for(check, learner)) == 3
        for learner in setting:
            learner_row = get_learner(check, learner)
            assert learner_row is not None and learner_row.skills == f"rust, {learner[-4:]}"
        for learner, _ in buttons:
            assert [s.status for s in suggestions_for(check, learner)] == ["interested"]
    finally:
        check.close()

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("matcher_interactions_total", command="suggest", outcome="ok") == 12
    assert moved("matcher_interactions_total", command="profile set", outcome="ok") == 4
    assert moved("matcher_interactions_total", command="button:interested", outcome="ok") == 4
    assert moved("matcher_interaction_ack_seconds_count", command="suggest") == 12
    assert moved("matcher_interaction_answer_seconds_count", command="profile set") == 4
    assert sample(after, "matcher_ranking_queue_depth") == 0
    assert sample(after, "matcher_index_issues") == len(ISSUES)


class SlowEmbedder(HashingEmbedder):
    """The test embedder, slow enough per call that a burst of rankings queues up."""

    def __init__(self):
        super().__init__()
        self._lock = threading.Lock()

    def encode(self, texts):
        with self._lock:  # like one model on a busy CPU
            time.sleep(0.2)
        return super().encode(texts)


async def test_a_full_ranking_queue_answers_busy_and_light_work_goes_on(
    timed_fake, tmp_path, settings
):
    url = f"sqlite:///{tmp_path / 'busy.sqlite'}"
    asking, setting, buttons = seed(url, suggesters=8, setters=2, pressers=2)
    bot_settings = load_bot_settings(sync_commands="global", ranking_workers=1, ranking_queue=2)
    bot = build_bot(
        bot_settings, settings.model_copy(update={"database_url": url}), embedder=SlowEmbedder()
    )
    async with bot:
        runner = await start(bot, timed_fake)
        try:
            result = await burst.burst(timed_fake, asking, setting, buttons, timeout=120)
        finally:
            await bot.close()
            await asyncio.wait_for(runner, 10)

    assert result.missing() == []
    answers = {s.learner: result.answers[s.token]["content"] for s in result.sent}
    busy = [x for x in asking if answers[x] == BUSY]
    served = [x for x in asking if answers[x].startswith("Your top")]
    assert busy and served and len(busy) + len(served) == len(asking)
    assert all(answers[x].startswith("Profile saved") for x in setting)
    assert all(answers[x].startswith("Noted") for x, _ in buttons)
    check = Database(url)
    try:  # a busy answer stored nothing; a served one stored its matches
        assert all(suggestions_for(check, x) == [] for x in busy)
        assert all(len(suggestions_for(check, x)) == 3 for x in served)
    finally:
        check.close()
