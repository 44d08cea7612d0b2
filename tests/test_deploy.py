"""compose.yaml's services, run as processes against a real store (PostgreSQL in the PG leg).

No Docker engine runs here, so this checks what can be checked without one: the commands and
environment compose gives each service, run with this code in their compose order; the image's
and the sync service's health checks; and the Dockerfile's layering rules.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from matcher.health import beat
from matcher.store import Database
from matcher.store.issues import count_issues
from matcher.store.migrations import head_revision
from matcher.store.sync_locks import SyncLockRow
from tests import databases
from tests.fakes.github_fixtures import TOKEN, fake_github  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def as_process(command: list[str]) -> list[str]:
    """The image's entrypoints: `matcher ARGS` is `python -m matcher ARGS`, `bot` is the bot."""
    program, *args = command
    return [sys.executable, "-m", program, *args]


def service_env(name: str, store_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The service's compose environment, with its /run/secrets files under tmp_path and the
    compose host `postgres` replaced by the test's own store."""
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    for secret, value in {
        "db_password": "unused-with-trust",
        "github_token": TOKEN,
        "discord_token": "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123",
    }.items():
        (secrets / secret).write_text(value + "\n")
    prefixes = ("MATCHER_", "GITHUB_TOKEN", "DISCORD_", "BOT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    for key, value in COMPOSE["services"][name]["environment"].items():
        env[key] = str(value).replace("/run/secrets/", f"{secrets}/")
    assert env["MATCHER_DATABASE_URL"].startswith("postgresql+psycopg://")
    env.update(MATCHER_DATABASE_URL=store_url, MATCHER_HEALTH_DIR=str(tmp_path / "health"))
    env.update(HF_HUB_OFFLINE="1", **extra)
    return env


def command(name: str) -> list[str]:
    return as_process(COMPOSE["services"][name]["command"])


def test_compose_order_migrate_then_sync_on_a_schedule(fake_github, store_url, tmp_path):  # noqa: F811
    if databases.on_postgres():  # the bot before `migrate`: the store is refused in one line
        bot_env = service_env("bot", store_url, tmp_path)
        early = subprocess.run(command("bot"), env=bot_env, cwd=ROOT, capture_output=True)
        assert early.returncode == 1 and early.stderr.decode().count("\n") == 1, early.stderr
        assert b"run `python -m matcher db upgrade`" in early.stderr

    migrate_env = service_env("migrate", store_url, tmp_path)

    # `migrate`, twice at once (a restarted stack): one migrates, the other finds it done
    runs = [
        subprocess.Popen(command("migrate"), env=migrate_env, cwd=ROOT, stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = sorted(run.communicate(timeout=120)[0].decode() for run in runs)
    assert [run.returncode for run in runs] == [0, 0]
    assert "already at revision" in outputs[0] and "migrated from revision none" in outputs[1]

    # `sync --every 6h` with the catalogue pointed at the fake's repositories
    names = fake_github.seed(repos=2, issues_per_repo=5)
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    repos = [{"repo": name, "niches": ["nlp"], "language": "Python"} for name in names]
    (config / "repos.yaml").write_text(yaml.safe_dump({"niches": ["nlp"], "repos": repos}))
    sync_env = service_env(
        "sync",
        store_url,
        tmp_path,
        MATCHER_CONFIG_DIR=str(config),
        MATCHER_GITHUB__API_URL=fake_github.url,
        MATCHER_GITHUB__GRAPHQL_URL=fake_github.graphql_url,
    )
    _cmd, python, *check = COMPOSE["services"]["sync"]["healthcheck"]["test"]
    assert python == "python"
    health = [sys.executable, *check]
    never = subprocess.run(health, env=sync_env, capture_output=True)
    assert never.returncode == 1 and b"no beat yet" in never.stdout
    sync = subprocess.Popen(command("sync"), env=sync_env, cwd=ROOT, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180
        while b"ok" not in _beat(tmp_path, "sync") and time.monotonic() < deadline:
            assert sync.poll() is None, sync.communicate()[1]
            time.sleep(0.2)
        assert subprocess.run(health, env=sync_env, capture_output=True).returncode == 0
        assert sync.poll() is None  # the loop sleeps until the next run
    finally:
        sync.send_signal(signal.SIGTERM)  # `docker compose stop`
        sync.communicate(timeout=60)
    assert sync.returncode == 0
    db = Database(store_url)
    try:
        assert db.revision() == head_revision() and count_issues(db) == 10
        with db.session() as session:  # the lock went with the loop
            assert session.scalar(select(func.count()).select_from(SyncLockRow)) == 0
    finally:
        db.close()


def _beat(tmp_path: Path, name: str) -> bytes:
    path = tmp_path / "health" / f"{name}.beat"
    return path.read_bytes() if path.exists() else b""


def test_the_image_health_check_is_the_bot_beat(tmp_path, monkeypatch):
    line = next(line for line in DOCKERFILE.splitlines() if line.strip().startswith('CMD ["python'))
    check = [sys.executable, *yaml.safe_load(line.strip().removeprefix("CMD "))[1:]]
    env = {**os.environ, "MATCHER_HEALTH_DIR": str(tmp_path)}
    assert subprocess.run(check, env=env, capture_output=True).returncode == 1  # never beat
    monkeypatch.setenv("MATCHER_HEALTH_DIR", str(tmp_path))
    beat("bot")
    assert subprocess.run(check, env=env, capture_output=True).returncode == 0
    stale = time.time() - 3600
    os.utime(tmp_path / "bot.beat", (stale, stale))
    (tmp_path / "bot.beat").write_text(f"{stale:.0f} ok\n")  # the beat's own time counts
    assert subprocess.run(check, env=env, capture_output=True).returncode == 1


def test_the_dockerfile_builds_dependencies_before_the_source_and_leaves_tests_out():
    lines = DOCKERFILE.splitlines()
    deps = next(i for i, line in enumerate(lines) if "pip install -r" in line)
    source = next(i for i, line in enumerate(lines) if line.startswith("COPY matcher"))
    assert deps < source
    assert "tests" not in DOCKERFILE.replace("no tests", "") and "[test" not in DOCKERFILE
    assert "download.pytorch.org/whl/cpu" in DOCKERFILE  # CPU torch unless told otherwise
    assert "USER 10001" in DOCKERFILE and "chown matcher /data" in DOCKERFILE
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignored and "!tests/" not in ignored


HADOLINT = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
    "hadolint"
)


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (the dev extra has it)")
def test_the_dockerfile_passes_hadolint():
    assert HADOLINT is not None
    result = subprocess.run([HADOLINT, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
