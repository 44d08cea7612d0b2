"""Issue 12 through the command line: one-line errors, exit codes, unwrapped output, the demo,
`--snapshot` in a store of its own, and what a new user meets in the first hour."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import matcher.embedding
import matcher.engine
from matcher.cli import app
from matcher.models import Match
from matcher.render.terminal import DEMO_CAPTION, print_matches
from matcher.settings import load_settings
from matcher.snapshot import demo_snapshot_path
from matcher.store import Database
from matcher.store.issues import count_issues
from tests.conftest import make_issue
from tests.fakes.embedder import HashingEmbedder
from tests.matcher.cli.helpers import empty_store

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
GOOD = {
    "url": "https://github.com/a/b/issues/1",
    "repo": "a/b",
    "number": 1,
    "title": "Add a librosa example",
    "body": "",
    "labels": ["good first issue"],
}


@pytest.fixture
def embedder():
    """These tests check what the command line says, not ranking quality: the hashing embedder
    stands in for the model (embedding the 220 demo texts with it cost a minute of CPU here). It
    carries the configured model's name, as a loaded model does."""
    return HashingEmbedder(dim=256, name=load_settings().model)


@pytest.fixture(autouse=True)
def shared_model(monkeypatch, embedder):
    monkeypatch.setattr(matcher.engine, "load_embedder", lambda name: embedder)
    monkeypatch.setattr(matcher.embedding, "load_embedder", lambda name: embedder)


def invoke(tmp_path, *args, code=0):
    result = runner.invoke(app, ["--db", str(tmp_path / "cli.sqlite"), *args])
    assert result.exit_code == code, result.output
    return result


def run_cli(*args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHER_")}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "matcher", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ")
    return lines[-1]


# --- case 4: one line where one line is promised -----------------------------------------------
def test_a_damaged_store_is_one_line(tmp_path):
    store = tmp_path / "s.sqlite"
    imported = run_cli("--db", str(store), "import", str(demo_snapshot_path()), "--no-embed")
    assert imported.returncode == 0, imported.stderr
    data = bytearray(store.read_bytes())
    assert len(data) > 40_000
    data[8192:-4096] = b"\xa5" * (len(data) - 8192 - 4096)  # every page but the first two
    store.write_bytes(bytes(data))
    for command in (["export", "-"], ["match", "--skills", "python"]):
        line = one_error_line(run_cli("--db", str(store), *command))
        assert "malformed" in line or "not a database" in line, line


def test_config_that_is_not_utf8_is_one_line(tmp_path):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("top_k: 5 # café\n".encode("latin-1"))
    line = one_error_line(run_cli("--config", str(bad), "match", "--skills", "x"))
    assert str(bad) in line and "not UTF-8" in line


def test_a_nested_setting_that_is_not_json_is_one_line():
    line = one_error_line(
        run_cli("match", "--skills", "x", env_extra={"MATCHER_RANKING": "notjson"})
    )
    assert "MATCHER_RANKING" in line and "MATCHER_RANKING__KEY=VALUE" in line


def test_an_unknown_database_scheme_is_one_line(tmp_path):
    line = one_error_line(run_cli("--db", "mongodb://localhost/x", "export", "-"))
    assert "unknown database scheme 'mongodb'" in line


# --- case 5: config -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "yaml_text, says",
    [
        (
            "ranking:\n  max_per_rep: 2\n",
            "key 'ranking.max_per_rep': Extra inputs are not permitted",
        ),
        ("github:\n  time_out: 2\n", "key 'github.time_out'"),
        ("ranking:\n  dense: .inf\n", "key 'ranking.dense': Input should be a finite number"),
    ],
)
def test_misspelled_nested_keys_and_infinite_weights_are_errors(tmp_path, yaml_text, says):
    config = tmp_path / "mine.yaml"
    config.write_text(yaml_text)
    result = invoke(tmp_path, "--config", str(config), "match", "--skills", "x", code=1)
    assert isinstance(result.exception, matcher.errors.ConfigError)
    assert says in str(result.exception)


# --- case 7: exit codes and wrapping --------------------------------------------------------------
def test_import_of_only_bad_lines_exits_1_and_warnings_stay_on_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    long_title = "x" * 300
    bad.write_text(
        json.dumps(dict(GOOD, url="https://github.com/a/b/issues/2", title=long_title))
        + "\n"
        + json.dumps(dict(GOOD, claimed="definitely not claimed, honestly, believe me" * 3))
        + "\n{broken\n"
    )
    done = run_cli("--db", str(tmp_path / "s.sqlite"), "import", str(bad))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, done.stderr
    assert [line.split(": line ")[1][0] for line in lines[:3]] == ["1", "2", "3"]
    assert all(line.startswith(f"warning: {bad}: line ") for line in lines[:3])
    assert lines[-1] == f"error: {bad}: no valid issue in the snapshot (3 bad lines)"
    assert len(lines) == 5  # three warnings, the summary, the error: nothing wrapped


def test_import_with_one_good_line_exits_0(tmp_path):
    snap = tmp_path / "mixed.jsonl"
    snap.write_text(json.dumps(GOOD) + "\n{broken\n")
    summary = json.loads(invoke(tmp_path, "import", str(snap), "--json").stdout)
    assert summary["added"] == 1 and summary["skipped_lines"] == 1


# --- cases 10 and 11: --snapshot in a store of its own; demo data marked --------------------------
def test_match_snapshot_leaves_the_learners_store_alone(tmp_path):
    snap = tmp_path / "one.jsonl"
    snap.write_text(json.dumps(GOOD) + "\n")
    matches = json.loads(
        invoke(tmp_path, "match", "--skills", "librosa", "--snapshot", str(snap), "--json").stdout
    )
    assert [m["url"] for m in matches] == [GOOD["url"]] and matches[0]["demo"] is False
    store = Database(f"sqlite:///{tmp_path / 'cli.sqlite'}")
    assert count_issues(store) == 0
    store.close()
    help_text = invoke(tmp_path, "match", "--help").stdout.replace("│", " ")
    assert "never added to yours" in " ".join(help_text.split())


def test_demo_results_are_marked_in_json_and_in_the_table(tmp_path):
    empty_store(tmp_path / "cli.sqlite")
    matches = json.loads(invoke(tmp_path, "match", "--skills", "PyTorch", "--json").stdout)
    assert matches and all(m["demo"] is True for m in matches)
    explicit = json.loads(
        invoke(
            tmp_path,
            "match",
            "--skills",
            "PyTorch",
            "--snapshot",
            str(demo_snapshot_path()),
            "--json",
        ).stdout
    )
    assert all(m["demo"] is True for m in explicit)
    table = " ".join(invoke(tmp_path, "match", "--skills", "PyTorch").stdout.split())
    assert "DEMO DATA" in table and "do not exist on GitHub" in table


def test_real_results_have_no_demo_caption(tmp_path):
    snap = tmp_path / "one.jsonl"
    snap.write_text(json.dumps(GOOD) + "\n")
    invoke(tmp_path, "import", str(snap))
    table = invoke(tmp_path, "match", "--skills", "librosa").stdout
    assert "DEMO" not in table and GOOD["url"] in table


# --- case 13: the table, the profile message ------------------------------------------------------
def test_table_urls_are_never_wrapped_or_cut():
    url = "https://github.com/some-organisation/a-rather-long-repository-name/issues/123456"
    issue = make_issue(
        123456, "A title " * 12, repo="some-organisation/a-rather-long-repository-name"
    )
    assert issue.url == url
    for width in (40, 80):
        out = io.StringIO()
        print_matches([Match(issue, 0.5, ["matches: python"])], Console(file=out, width=width))
        assert url in [line.strip() for line in out.getvalue().splitlines()]
    out = io.StringIO()
    print_matches([Match(issue, 0.5, [])], Console(file=out, width=60), demo=True)
    assert DEMO_CAPTION.split(";")[0] in " ".join(out.getvalue().split())


def test_a_title_with_brackets_is_shown_as_written():
    issue = make_issue(7, "[BUG] [/b] crash in [bold]loader[/bold]")
    out = io.StringIO()
    print_matches([Match(issue, 0.5, ["[docs] task"])], Console(file=out, width=100))
    assert "[BUG] [/b] crash in [bold]loader[/bold]" in out.getvalue()
    assert "[docs] task" in out.getvalue()


def test_an_empty_profile_says_which_options_to_give(tmp_path):
    result = invoke(tmp_path, "match", code=1)
    assert str(result.exception).startswith("give --skills or --niche")
    assert "profile 'me'" not in str(result.exception)


# --- case 12: a route to real issues, with and without a token -----------------------------------
def test_readme_says_how_to_make_a_token_and_how_to_do_without_one():
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "classic" in readme and "no scopes" in readme
    assert "python -m matcher import" in readme and "without a token" in readme.lower()
    assert "source .venv/bin/activate" in readme


# --- case 6: export reads a store on a read-only mount ------------------------------------------
def test_export_from_a_read_only_mount(tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)]).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        store = mnt / "s.sqlite"
        snap = tmp_path / "one.jsonl"
        snap.write_text(json.dumps(GOOD) + "\n")
        assert run_cli("--db", str(store), "import", str(snap), "--no-embed").returncode == 0
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        done = runner.invoke(app, ["--db", str(store), "export", str(tmp_path / "out.jsonl")])
        assert done.exit_code == 0, done.output
        assert json.loads((tmp_path / "out.jsonl").read_text())["url"] == GOOD["url"]
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_score_that_is_not_finite_is_never_printed_as_json(tmp_path, monkeypatch):
    """Settings refuse .inf weights; should a score still not be finite, --json says so."""
    monkeypatch.setattr(matcher.models.Match, "to_dict", lambda self: {"score": float("inf")})
    empty_store(tmp_path / "cli.sqlite")
    result = invoke(tmp_path, "match", "--skills", "PyTorch", "--json", code=1)
    assert "not a finite number" in str(result.exception) and "Infinity" not in result.stdout
