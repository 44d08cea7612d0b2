"""The publish-snapshot workflow (issue 21): it parses, runs weekly and on demand, its matcher
commands are real commands, and the files its export step writes are what `import URL` verifies."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.main import get_command

from matcher.cli import app
from tests.fakes.https_host import HttpsHost
from tests.matcher.cli.helpers import run_main

ROOT = Path(__file__).resolve().parents[3]
WORKFLOW = ROOT / ".github" / "workflows" / "publish-snapshot.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


@pytest.fixture(scope="module")
def job(workflow) -> dict:
    return workflow["jobs"]["publish"]


def step(job: dict, starts: str) -> dict:
    (found,) = [s for s in job["steps"] if s["name"].startswith(starts)]
    return found


def test_it_runs_weekly_and_on_demand_with_the_right_to_publish(workflow):
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    (schedule,) = triggers["schedule"]
    minute, hour, day, month, weekday = schedule["cron"].split()
    assert (day, month) == ("*", "*") and weekday.isdigit()  # once a week
    assert "workflow_dispatch" in triggers
    assert workflow["permissions"] == {"contents": "write"}


def test_the_steps_sync_export_checksum_and_publish(job):
    names = [s["name"].split()[0] for s in job["steps"]]
    assert names == ["Check", "Set", "Install", "Sync", "Export", "Publish", "Say"]
    assert step(job, "Check")["uses"].startswith("actions/checkout@")
    assert step(job, "Set up")["uses"].startswith("actions/setup-python@")
    assert "pip install" in step(job, "Install")["run"]
    sync = step(job, "Sync")
    assert "secrets.GITHUB_TOKEN" in sync["env"]["GITHUB_TOKEN"]
    assert "sha256sum issues.jsonl > issues.jsonl.sha256" in step(job, "Export")["run"]
    publish = step(job, "Publish")["run"]
    assert "gh release upload snapshot" in publish and "--clobber" in publish
    assert "issues.jsonl.sha256" in publish


def matcher_commands(job: dict) -> list[list[str]]:
    found = []
    for s in job["steps"]:
        for line in s.get("run", "").splitlines():
            if line.strip().startswith("python -m matcher "):
                found.append(shlex.split(line.strip())[3:])
    return found


def test_every_matcher_command_of_the_workflow_is_a_real_command(job):
    root = get_command(app)
    commands = matcher_commands(job)
    assert [c[0] for c in commands] == ["sync", "export"]
    for args in commands:
        context = root.make_context("matcher", list(args))  # the commands give no group option
        name, sub, rest = root.resolve_command(context, list(args))
        assert sub is not None
        sub.make_context(name, rest, parent=context)  # raises on an unknown option


def test_the_export_step_writes_what_import_url_verifies(job, tmp_path, capsys, monkeypatch):
    records = [
        {
            "url": f"https://github.com/a/b/issues/{n}",
            "repo": "a/b",
            "number": n,
            "title": f"Add an example {n}",
            "body": "",
            "labels": ["good first issue"],
        }
        for n in (1, 2)
    ]
    (tmp_path / "synced.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    store = tmp_path / job["env"]["MATCHER_DATABASE_URL"]  # a file path, as sync left it
    made = run_main(
        capsys, monkeypatch, "--db", str(store), "import", str(tmp_path / "synced.jsonl"),
        "--no-embed",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr

    bin_dir = tmp_path / "bin"  # `python` on the runner is the one with the matcher installed
    bin_dir.mkdir()
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    (bin_dir / "python").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHER_")}
    env.update(job["env"], PATH=f"{bin_dir}:{env['PATH']}", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", step(job, "Export")["run"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    published = tmp_path / job["env"]["SNAPSHOT_DIR"]

    with HttpsHost(tmp_path) as host:
        monkeypatch.setenv("SSL_CERT_FILE", host.ca_file)
        base = "/releases/download/snapshot/issues.jsonl"
        url = host.publish(base, (published / "issues.jsonl").read_bytes())
        host.publish(base + ".sha256", (published / "issues.jsonl.sha256").read_bytes())
        member = tmp_path / "member.sqlite"
        imported = run_main(
            capsys, monkeypatch, "--db", str(member), "import", url, "--json", "--no-embed"
        )
    assert imported.returncode == 0, imported.stderr
    summary = json.loads(imported.stdout)
    assert summary["checksum_verified"] is True and summary["added"] == 2
