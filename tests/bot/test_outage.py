"""Store outages: a temporary message, one warning per outage, /help without the store, recovery
without a restart; and a bot that starts on a full disk, read-only where it must."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.__main__ import build_bot
from bot.exts.error_handler import STORE_UNAVAILABLE, store_unavailable
from bot.settings import load_bot_settings
from matcher.errors import StoreError
from matcher.operations.profiles import clean_profile_update, save_profile
from matcher.store import Database
from matcher.store.issues import upsert_issues
from tests.bot import burst
from tests.bot.fakes import ISSUES, HashingEmbedder
from tests.bot.helpers import set_profile
from tests.fakes.discord_gateway import APP_ID


class StoreAway:
    """The SQLite file gone from under the bot (as a lost server): new connections fail."""

    def __init__(self, bot):
        self.db = bot.db
        self.path = Path(bot.db.sqlite_file)
        self.moved = self.path.with_name(self.path.name + ".away")

    def __enter__(self):
        self.db.engine.dispose()  # the open connections die with the "server"
        self.path.rename(self.moved)
        self.path.mkdir()  # "unable to open database file"
        return self

    def __exit__(self, *exc):
        self.path.rmdir()
        self.moved.rename(self.path)


async def test_an_outage_says_try_again_once_logged_and_recovers(world, caplog):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)
    caplog.set_level(logging.INFO)
    with StoreAway(env.bot):
        answers = [await alice.slash(channel, "profile show") for _ in range(3)]
        answers.append(await alice.slash(channel, "suggest"))
        help_answer = await alice.slash(channel, "help")
    assert [a.response.content for a in answers] == [STORE_UNAVAILABLE] * 4
    assert all(a.ephemeral for a in answers)
    assert "/suggest" in help_answer.response.content  # /help needs no store
    warnings = [r for r in caplog.records if "store is unavailable" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]

    back = await alice.slash(channel, "profile show")  # no restart
    assert back.response.embeds and back.response.embeds[0].title == "Your matcher profile"
    assert [r.getMessage() for r in caplog.records].count("the store is reachable again") == 1
    assert not env.bot.outage.down


def test_only_an_unreachable_store_counts_as_an_outage():
    from sqlalchemy.exc import OperationalError

    lost = OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    try:
        raise StoreError("cannot use the store") from lost
    except StoreError as error:
        assert store_unavailable(error) == "server closed the connection"
    assert store_unavailable(StoreError("the store needs `matcher db upgrade`")) is None
    assert store_unavailable(OSError(28, "No space left on device")) == "No space left on device"
    assert store_unavailable(ValueError("a bug")) is None


@pytest.fixture
def full_disk(tmp_path):
    """A 4 MB tmpfs holding a store, then filled to the last byte (root only: mount)."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:  # lazily: a file a finished thread left open must not keep the mount
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> None:
    with (folder / "filler").open("wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 4096)
        except OSError:
            pass


async def test_the_bot_starts_on_a_full_disk_and_answers_read_only(
    full_disk, monkeypatch, settings
):
    url = f"sqlite:///{full_disk / 'bot.sqlite'}"
    learner = burst.new_learner()
    db = Database(url)
    upsert_issues(db, ISSUES)
    save_profile(db, learner, clean_profile_update(skills="python, pytorch", niche="nlp"))
    db.close()
    fill(full_disk)
    with pytest.raises(StoreError):
        Database(url)  # the usual way cannot even read it now

    fake = await burst.TimedFake().start()
    fake.patch(monkeypatch)
    try:
        bot = build_bot(
            load_bot_settings(sync_commands="global"),
            settings.model_copy(update={"database_url": url}),
            embedder=HashingEmbedder(),
        )
        async with bot:
            runner = asyncio.create_task(bot.start(burst.TOKEN))
            try:
                await asyncio.wait_for(bot.wait_until_ready(), 30)
                await fake.wait_for_request("PUT", f"/applications/{APP_ID}/commands")
                ids = burst.command_ids(fake)
                help_payload = burst._base(
                    fake, learner, 2, "t-help", {"id": ids["help"], "name": "help", "type": 1}
                )
                show = {
                    "id": ids["profile"],
                    "name": "profile",
                    "type": 1,
                    "options": [{"name": "show", "type": 1, "options": []}],
                }
                result = burst.BurstResult(
                    [
                        burst.Sent("help", learner, help_payload["id"], "t-help"),
                        *await _send(fake, learner, "t-show", show),
                        *await _send_profile_set(fake, ids, learner),
                    ]
                )
                await fake.dispatch("INTERACTION_CREATE", help_payload)
                for _ in range(200):
                    burst.collect(fake, result)
                    if not result.missing():
                        break
                    await asyncio.sleep(0.05)
            finally:
                await bot.close()
                await asyncio.wait_for(runner, 10)
                bot.db.close()
    finally:
        await fake.stop()

    assert result.missing() == []
    answers = {s.token: result.answers[s.token] for s in result.sent}
    assert answers["t-help"]["content"].startswith("I match you")
    assert answers["t-show"]["embeds"][0]["title"] == "Your matcher profile"  # reads work
    assert answers["t-set"]["content"] == STORE_UNAVAILABLE  # writes wait for space


async def _send(fake, learner: str, token: str, data: dict) -> list[burst.Sent]:
    payload = burst._base(fake, learner, 2, token, data)
    await fake.dispatch("INTERACTION_CREATE", payload)
    return [burst.Sent("profile show", learner, payload["id"], token)]


async def _send_profile_set(fake, ids, learner: str) -> list[burst.Sent]:
    payload = burst.profile_payload(fake, ids, learner, "t-set", "rust")
    await fake.dispatch("INTERACTION_CREATE", payload)
    return [burst.Sent("profile set", learner, payload["id"], "t-set")]
