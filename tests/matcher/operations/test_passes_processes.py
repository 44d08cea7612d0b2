"""Background passes in several real OS processes on one PostgreSQL (the PostgreSQL leg only).

Each process is tests/matcher/operations/pass_driver.py: the digest pass as the bot runs it
(plan, send, record; a retry looks for the digest it may have sent before), or one portfolio
refresh pass. 2,000 learners are due at once.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from matcher.store import Database
from matcher.store import portfolio as portfolio_store
from matcher.store.digests import deliveries
from matcher.store.issues import upsert_issues
from matcher.store.learners import LearnerRow
from tests import databases
from tests.bot.fakes import ISSUES
from tests.fakes.github_portfolio import PortfolioFake
from tests.fakes.github_server import FakeGitHub

pytestmark = pytest.mark.skipif(
    not databases.on_postgres(), reason="several processes on one PostgreSQL: the PostgreSQL leg"
)

ROOT = Path(__file__).resolve().parents[3]
LEARNERS = 2000
SINCE = datetime.now(UTC) - timedelta(days=30)  # every learner's latest slot is due


def _learner(n: int) -> dict:
    return {
        "learner_id": str(n),
        "skills": "python, pytorch, tokenizer",
        "niche": "nlp",
        "languages": "",
        "digest_enabled": True,
        "digest_since": SINCE,
        "digest_weekday": n % 7,
        "digest_hour": n % 24,
        "timezone": ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo")[n % 4],
        "pace": "auto",
        "updated_at": SINCE,
    }


def fill(url: str, learners: int = LEARNERS) -> None:
    db = Database(url, migrate=True)
    upsert_issues(db, ISSUES)
    with db.session() as session:
        session.execute(insert(LearnerRow), [_learner(n) for n in range(learners)])
    db.close()


def start(mode: str, url: str, folder: Path, name: str, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.matcher.operations.pass_driver", mode, url, str(folder), name,
         *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip


def finish(process: subprocess.Popen, timeout: float = 300) -> tuple[str, str]:
    """(stdout, stderr) of a driver that ended cleanly."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0 and "Traceback" not in err, err[-3000:]
    return out, err


def lines(folder: Path, suffix: str) -> list[str]:
    return [line for path in folder.glob(f"*.{suffix}") for line in path.read_text().splitlines()]


def wait_for(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def assert_each_sent_once(url: str, folder: Path, learners: int = LEARNERS) -> None:
    sent = Counter(line.split()[0] for line in lines(folder, "sent"))
    assert len(sent) == learners and set(sent.values()) == {1}, sent.most_common(3)
    db = Database(url)
    stored = deliveries(db)
    db.close()
    assert Counter(d.status for d in stored) == {"dm": learners}
    assert len({d.learner_id for d in stored}) == learners


def test_two_processes_share_one_pass_and_send_every_digest_once(store_url, tmp_path):
    fill(store_url)
    both = [start("digest", store_url, tmp_path, name) for name in ("a", "b")]
    for process in both:
        finish(process)
    assert_each_sent_once(store_url, tmp_path)
    planned = Counter(line.split()[0] for line in lines(tmp_path, "planned"))
    assert set(planned.values()) == {1}  # no learner planned by both, nor twice


def test_a_process_starting_late_in_a_long_pass_plans_nobody_its_live_owner_holds(
    store_url, tmp_path
):
    fill(store_url, 1000)
    # A's reservations are older than its STALE_AFTER long before it has sent them all: the
    # fixed takeover re-planned every one of them in B (issue 19, point 3).
    slow = ("--send-delay", "0.002", "--stale-after", "1")
    first = start("digest", store_url, tmp_path, "a", *slow)
    wait_for(lambda: len(lines(tmp_path, "sent")) >= 100)
    time.sleep(1.5)  # every reservation of A is now "stale" by the clock
    late = start("digest", store_url, tmp_path, "b", "--stale-after", "1")
    finish(first)
    finish(late)
    assert (tmp_path / "b.planned").read_text() == ""
    assert_each_sent_once(store_url, tmp_path, 1000)


def test_a_pass_killed_midway_is_finished_after_a_restart_without_a_double(store_url, tmp_path):
    fill(store_url, 600)
    first = start("digest", store_url, tmp_path, "a", "--send-delay", "0.002")
    wait_for(lambda: len(lines(tmp_path, "sent")) >= 200)
    first.send_signal(signal.SIGTERM)  # no handler: the process dies mid-pass, holding its lease
    first.wait(timeout=30)
    assert 200 <= len(lines(tmp_path, "sent")) < 600
    again = start("digest", store_url, tmp_path, "a2")
    finish(again)  # waits out the dead owner's lease (3 s here), then retries its reservations
    assert_each_sent_once(store_url, tmp_path, 600)
    taken_over = (tmp_path / "a2.planned").read_text().splitlines()
    assert taken_over and all(line.endswith(" 1") for line in taken_over)  # retries, each once


# --- a store outage: a private PostgreSQL cluster, stopped and started during a pass ----------


@pytest.fixture
def private_cluster() -> Iterator[tuple[str, Callable[[float], None]]]:
    """A throwaway PostgreSQL of this test only (never the shared server): (url, restart)."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not bins:
        pytest.skip("no PostgreSQL binaries to start a private cluster")
    bin_dir = bins[-1]
    folder = Path(tempfile.mkdtemp(prefix="matcher-pg-outage-"))
    as_user = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    if as_user:
        shutil.chown(folder, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = folder / "data"
    run = lambda *args: subprocess.run([*as_user, *args], check=True, capture_output=True)  # noqa: E731
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w"]
    run(*ctl, "-o", options, "start")

    def outage(seconds: float) -> None:
        run(*ctl, "-m", "fast", "stop")
        time.sleep(seconds)
        run(*ctl, "-o", options, "start")

    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", outage
    finally:
        subprocess.run([*as_user, *ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_store_outage_during_a_pass_loses_and_doubles_nothing(private_cluster, tmp_path):
    url, outage = private_cluster
    fill(url, 600)
    first = start(
        "digest", url, tmp_path, "a", "--send-delay", "0.005", "--stale-after", "2",
        "--owner-ttl", "20",
    )  # fmt: skip
    wait_for(lambda: len(lines(tmp_path, "sent")) >= 150)
    outage(3)  # the server is gone for 3 s mid-pass, then back; nobody restarts the process
    out, err = finish(first)
    assert "done" in out and "cannot record the digest" in err  # the outage hit the pass
    assert_each_sent_once(url, tmp_path, 600)


# --- the portfolio refresh pass in two processes at once ---------------------------------------


def test_the_portfolio_pass_in_two_processes_at_once_ends_cleanly_with_the_same_rows(
    store_url, tmp_path
):
    with FakeGitHub(token="ghp_processes") as gh:
        fake = PortfolioFake(gh)
        gh.add_repo("acme/lib", stars=100, topics=["nlp"])
        db = Database(store_url, migrate=True)
        expected = set()
        for n in range(12):
            login = f"user{n}"
            fake.add_user(login, 9000 + n)
            for k in range(3):
                merged = datetime(2026, 2, 1 + k, tzinfo=UTC)
                expected.add(fake.add_pull("acme/lib", login, f"Fix {n}.{k}", merged_at=merged))
            portfolio_store.save_claim(db, str(n), login, "h", datetime(2027, 1, 1, tzinfo=UTC))
            portfolio_store.mark_verified(db, str(n), 9000 + n, login)
        (tmp_path / "barrier").mkdir()
        options = ("--github", gh.url, "--token", "ghp_processes")
        both = [
            start("portfolio", store_url, tmp_path / "barrier", name, *options)
            for name in ("a", "b")
        ]
        wait_for(lambda: len(list((tmp_path / "barrier").glob("ready-*"))) == 2)
        (tmp_path / "barrier" / "go").touch()
        results = [json.loads(finish(p)[0]) for p in both]
        stored = {
            c.url
            for n in range(12)
            for c in portfolio_store.load_contributions(db, author_id=9000 + n)
        }
        db.close()
    assert stored == expected
    assert all(r["failed"] == [] for r in results) and any(r["ran"] for r in results)
    assert sum(r["refreshed"] for r in results if r["ran"]) in (
        12,
        24,
    )  # once, or one after the other
