"""Several real processes on one store at once: SQLite, or PostgreSQL (MATCHER_TEST_DATABASE_URL).

Children start together behind a file barrier (each says it is ready, then waits for "go"), so
their writes overlap as a cron sync, a hand-run sync and the bot's processes would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from matcher.store import Database
from matcher.store.issues import EmbeddingRow
from matcher.store.migrations import head_revision
from tests.fakes.github_fixtures import TOKEN, fake_github  # noqa: F401

ROOT = Path(__file__).resolve().parents[3]

BARRIER = """
import sys, time
from pathlib import Path
barrier, url = Path(sys.argv[1]), sys.argv[2]
(barrier / f"ready-{sys.argv[3]}").touch()
while not (barrier / "go").exists():
    time.sleep(0.002)
"""


def run_together(tmp_path: Path, code: str, url: str, count: int = 2) -> list[tuple[int, str, str]]:
    """Run `code` in `count` Python processes released at the same moment; (exit, out, err)."""
    barrier = tmp_path / f"barrier-{time.monotonic_ns()}"
    barrier.mkdir()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(barrier), url, str(n)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(count)
    ]
    deadline = time.monotonic() + 120
    while len(list(barrier.glob("ready-*"))) < count and time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            break
        time.sleep(0.01)
    (barrier / "go").touch()
    return [(child.wait(timeout=300), *child.communicate()) for child in children]


def assert_clean(results: list[tuple[int, str, str]]) -> None:
    for code, _out, err in results:
        assert code == 0 and "Traceback" not in err and "IntegrityError" not in err, err


MIGRATE = (
    """
from matcher.store import Database
"""
    + BARRIER
    + """
db = Database(url, check=False)
before, after = db.upgrade()
print(before, after)
"""
)


def test_processes_starting_together_on_an_empty_store_migrate_it_once(tmp_path, store_url):
    results = run_together(tmp_path, MIGRATE, store_url, count=4)
    assert_clean(results)
    outcomes = sorted(out.split() for _code, out, _err in results)
    head = head_revision()
    assert outcomes == [[head, head]] * 3 + [["None", head]]  # one migrated, three waited
    assert Database(store_url).revision() == head


EMBED = (
    """
import numpy as np
from matcher.store import Database
from matcher.store.issues import get_embeddings, put_embeddings
"""
    + BARRIER
    + """
db = Database(url)
for batch in range(20):  # what matcher.embedding.issue_vectors does: look up, then store the rest
    (barrier / f"batch-{batch}-{sys.argv[3]}").touch()  # both processes at the same batch
    waited = time.monotonic()
    while len(list(barrier.glob(f"batch-{batch}-*"))) < 2 and time.monotonic() - waited < 20:
        time.sleep(0.001)
    vectors = {f"text-{batch}-{n}": np.full(8, batch + n, dtype=np.float32) for n in range(40)}
    missing = {key: vector for key, vector in vectors.items()
               if key not in get_embeddings(db, "model", vectors)}
    put_embeddings(db, "model", missing)
print(len(get_embeddings(db, "model", [f"text-{b}-{n}" for b in range(20) for n in range(40)])))
"""
)


def test_two_embedders_of_the_same_texts_both_succeed(tmp_path, db, store_url):
    results = run_together(tmp_path, EMBED, store_url, count=2)
    assert_clean(results)
    assert [out.strip() for _code, out, _err in results] == ["800", "800"]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(EmbeddingRow)) == 800


def _sync_env(server, store_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MATCHER_", "GITHUB_TOKEN"))}
    env.update(
        GITHUB_TOKEN=TOKEN,
        MATCHER_DATABASE_URL=store_url,
        MATCHER_GITHUB__API_URL=server.url,
        MATCHER_GITHUB__GRAPHQL_URL=server.graphql_url,
        MATCHER_GITHUB__TIMEOUT_SECONDS="120",  # the held request must not time out and retry
    )
    return env


def _start_held_sync(server, command, env) -> subprocess.Popen:
    """A sync whose first GraphQL request the fake holds back: it runs, holding the lock."""
    server.faults.holding.clear()
    server.faults.add("timeout", count=1, target="graphql")
    sync = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    while not server.faults.holding.wait(0.1):
        assert sync.poll() is None, sync.communicate()[1]
    return sync


def test_a_second_sync_exits_with_one_line_naming_the_running_one(fake_github, db, store_url):  # noqa: F811
    names = fake_github.seed(repos=3, issues_per_repo=5)
    command = [sys.executable, "-m", "matcher", "sync", "--repos", ",".join(names), "--no-embed"]
    env = _sync_env(fake_github, store_url)
    fake_github.faults.hang_seconds = 120
    first = _start_held_sync(fake_github, command, env)
    try:
        second = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    finally:
        fake_github.faults.release()
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert second.returncode == 1 and second.stderr.count("\n") == 1, second.stderr
    assert second.stderr.startswith("error: another sync is running on this store")
    assert f"pid {first.pid} on " in second.stderr

    third = subprocess.run([*command, "--json"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert third.returncode == 0, third.stderr  # the lock was released: the next sync runs
    assert sorted(json.loads(third.stdout)["repos_ok"]) == sorted(names)


def test_a_killed_sync_does_not_block_the_next_one(fake_github, db, store_url):  # noqa: F811
    names = fake_github.seed(repos=2, issues_per_repo=5)
    command = [sys.executable, "-m", "matcher", "sync", "--repos", ",".join(names), "--no-embed"]
    env = _sync_env(fake_github, store_url)
    fake_github.faults.hang_seconds = 120
    killed = _start_held_sync(fake_github, command, env)
    os.kill(killed.pid, signal.SIGKILL)
    killed.communicate(timeout=60)
    fake_github.faults.release()
    after = subprocess.run([*command, "--json"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["added"] == 10
