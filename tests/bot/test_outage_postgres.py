"""PostgreSQL stopped and started under a running bot: a clear temporary message, one warning, and
recovery without a restart. The server is a private cluster of this test (never the shared one)."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from bot.__main__ import build_bot
from bot.exts.error_handler import STORE_UNAVAILABLE
from bot.settings import load_bot_settings
from matcher.operations.profiles import clean_profile_update, save_profile
from matcher.store import Database
from matcher.store.issues import upsert_issues
from tests.bot import burst
from tests.bot.fakes import ISSUES, HashingEmbedder


class Cluster:
    """initdb/pg_ctl of the newest installed PostgreSQL, as scripts/test-postgres.sh starts one."""

    def __init__(self, folder: Path):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name)
        if not bins or not (bins[-1] / "initdb").exists():
            pytest.skip("no PostgreSQL installed for a private cluster")
        self.bin = bins[-1]
        self.folder = folder
        self.run_as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root
            owner = "postgres" if _user_exists("postgres") else "nobody"
            shutil.chown(folder, owner)
            self.run_as = ["runuser", "-u", owner, "--"]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._ctl("initdb", "-D", str(folder / "data"), "-U", "postgres", "--auth=trust")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "log"),
                  "-w", "-o", options, "start")  # fmt: skip

    def stop(self) -> None:
        self._ctl("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def _ctl(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self.run_as, str(self.bin / program), *args], check=True, capture_output=True
        )


def _user_exists(name: str) -> bool:
    return subprocess.run(["id", "-u", name], capture_output=True).returncode == 0


@pytest.fixture
def cluster():
    # under /tmp itself: pytest's tmp_path is private to root, and the server runs as postgres
    folder = Path(tempfile.mkdtemp(prefix="matcher-pg."))
    try:
        server = Cluster(folder)
        server.start()
        yield server
        subprocess.run(
            [*server.run_as, str(server.bin / "pg_ctl"), "-D", str(folder / "data"), "-m",
             "immediate", "stop"], capture_output=True,
        )  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def ask(fake, learner: str, token: str, name: str, sub: str | None = None) -> dict:
    """Send one command and wait for its answer's JSON."""
    ids = burst.command_ids(fake)
    options = [{"name": sub, "type": 1, "options": []}] if sub else []
    data = {"id": ids[name], "name": name, "type": 1, "options": options}
    payload = burst._base(fake, learner, 2, token, data)
    result = burst.BurstResult([burst.Sent(name, learner, payload["id"], token)])
    await fake.dispatch("INTERACTION_CREATE", payload)
    for _ in range(300):
        burst.collect(fake, result)
        if not result.missing():
            return result.answers[token]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no answer to /{name} {sub or ''}")


async def test_postgres_stopped_and_started_under_the_bot(cluster, monkeypatch, settings, caplog):
    learner = burst.new_learner()
    db = Database(cluster.url, migrate=True)
    upsert_issues(db, ISSUES)
    save_profile(db, learner, clean_profile_update(skills="python, pytorch", niche="nlp"))
    db.close()
    caplog.set_level(logging.INFO)
    fake = await burst.TimedFake().start()
    fake.patch(monkeypatch)
    bot = build_bot(
        load_bot_settings(sync_commands="global"),
        settings.model_copy(update={"database_url": cluster.url}),
        embedder=HashingEmbedder(),
    )
    try:
        async with bot:
            runner = asyncio.create_task(bot.start(burst.TOKEN))
            try:
                await asyncio.wait_for(bot.wait_until_ready(), 30)
                await fake.wait_for_request("PUT", "/commands")
                before = await ask(fake, learner, "t0", "profile", "show")
                await asyncio.to_thread(cluster.stop)
                during = [await ask(fake, learner, f"t{n}", "profile", "show") for n in (1, 2, 3)]
                helped = await ask(fake, learner, "t4", "help")
                await asyncio.to_thread(cluster.start)
                after = {}
                for n in range(5, 15):  # the first use of a dead pooled connection may fail
                    after = await ask(fake, learner, f"t{n}", "profile", "show")
                    if after.get("embeds"):
                        break
                    await asyncio.sleep(0.5)
            finally:
                await bot.close()
                await asyncio.wait_for(runner, 10)
                bot.db.close()
    finally:
        await fake.stop()

    assert before["embeds"][0]["title"] == "Your matcher profile"
    assert [d["content"] for d in during] == [STORE_UNAVAILABLE] * 3
    assert all(d["flags"] & 64 for d in during)  # privately
    assert helped["content"].startswith("I match you")  # /help needs no store
    assert after.get("embeds") and after["embeds"][0]["title"] == "Your matcher profile"
    messages = [r.getMessage() for r in caplog.records]
    assert sum("the store is unavailable" in m for m in messages) == 1
    assert messages.count("the store is reachable again") == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
