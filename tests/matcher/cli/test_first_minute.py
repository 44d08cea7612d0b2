"""Issue 21, the CLI's first minute: every mistake gets one right line, the demo stays a demo,
and the small things (`--version`, completion, `-` for stdin, `--help` speed, clean output)."""

from __future__ import annotations

import json
import os
import re
import resource
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import matcher.embedding
import matcher.engine
from matcher.cli import app
from matcher.errors import StoreError
from matcher.models import Issue, Match
from matcher.render.console import console
from matcher.render.terminal import print_matches
from matcher.settings import load_settings
from matcher.snapshot import demo_snapshot_path
from matcher.store import Database
from matcher.store.db import store_url
from tests import databases
from tests.fakes.embedder import HashingEmbedder
from tests.fakes.github_fixtures import TOKEN
from tests.matcher.cli.helpers import empty_store, run_main

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


def issue_record(n: int, repo: str = "a/b", **extra) -> dict:
    return {
        "url": f"https://github.com/{repo}/issues/{n}",
        "repo": repo,
        "number": n,
        "title": f"Add a librosa example for audio loading {n}",
        "body": "The docs need an example that loads audio with librosa and plots it.",
        "labels": ["good first issue", "documentation"],
        **extra,
    }


def write_lines(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.fixture(autouse=True)
def hashing_model(monkeypatch, no_shipped_vectors):
    """Output and errors are tested here, not ranking: a hashing embedder stands in."""
    embedder = HashingEmbedder(dim=64, name=load_settings().model)
    monkeypatch.setattr(matcher.engine, "load_embedder", lambda name: embedder)
    monkeypatch.setattr(matcher.embedding, "load_embedder", lambda name: embedder)


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHER_")}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", **extra)
    return env


def last_error(outcome) -> str:
    assert outcome.returncode == 1 and "Traceback" not in outcome.stderr, outcome.stderr
    line = outcome.stderr.strip().splitlines()[-1]
    assert line.startswith("error: "), outcome.stderr
    return line


# --- database URLs ----------------------------------------------------------------------------
def test_a_file_path_in_matcher_database_url_works_for_the_cli(tmp_path, capsys, monkeypatch):
    path = tmp_path / "from-env.sqlite"
    monkeypatch.setenv("MATCHER_DATABASE_URL", str(path))
    snapshot = write_lines(tmp_path / "s.jsonl", [issue_record(1)])
    done = run_main(capsys, monkeypatch, "import", str(snapshot), "--no-embed")
    assert done.returncode == 0, done.stderr
    exported = run_main(capsys, monkeypatch, "export", "-")
    assert exported.returncode == 0 and json.loads(exported.stdout)["number"] == 1
    assert path.is_file()


def test_a_file_path_in_matcher_database_url_works_for_the_bot(tmp_path, monkeypatch):
    from bot.__main__ import build_bot
    from bot.settings import load_bot_settings

    path = tmp_path / "bot.sqlite"
    monkeypatch.setenv("MATCHER_DATABASE_URL", str(path))
    bot = build_bot(load_bot_settings(), load_settings())
    try:
        assert bot.db.url == f"sqlite:///{path}" and path.is_file()
    finally:
        bot.db.close()


@pytest.mark.parametrize(
    "given, understood",
    [
        ("postgres://ada@db.example/matcher", "postgresql+psycopg://ada@db.example/matcher"),
        ("postgresql://ada@db.example/matcher", "postgresql+psycopg://ada@db.example/matcher"),
        ("postgresql+psycopg://ada@h/m", "postgresql+psycopg://ada@h/m"),
        ("sqlite:///relative.sqlite", "sqlite:///relative.sqlite"),
        ("~/stores/x.sqlite", f"sqlite:///{Path.home() / 'stores' / 'x.sqlite'}"),
    ],
)
def test_store_urls_are_understood(given, understood):
    assert store_url(given) == understood


@pytest.mark.skipif(not databases.on_postgres(), reason="the PostgreSQL leg only")
def test_a_postgres_scheme_opens_the_postgresql_store(store_url, capsys, monkeypatch):
    Database(store_url, migrate=True).close()
    alias = "postgres://" + store_url.split("://", 1)[1]
    done = run_main(capsys, monkeypatch, "--db", alias, "export", "-")
    assert done.returncode == 0, done.stderr


def test_a_missing_driver_names_the_install_command(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the [postgres] extra were absent
    line = last_error(
        run_main(capsys, monkeypatch, "--db", "postgres://ada:pw@127.0.0.1/m", "export", "-")
    )
    assert "its driver psycopg is not installed" in line
    assert line.endswith("-m pip install 'ml-first-issues[postgres]'") and "pw" not in line


@pytest.mark.parametrize(
    "url, says",
    [
        ("mongodb://localhost/x", "unknown database scheme 'mongodb'"),
        ("mysql://localhost/x", "the store is SQLite or PostgreSQL, not mysql"),
    ],
)
def test_a_database_that_is_not_supported_is_one_line(url, says, capsys, monkeypatch):
    line = last_error(run_main(capsys, monkeypatch, "--db", url, "export", "-"))
    assert says in line and "use a file path" in line


# --- a --db that does not exist ---------------------------------------------------------------
@pytest.mark.parametrize(
    "command",
    [
        ["match", "--skills", "python"],
        ["export", "-"],
        ["digest", "preview", "1"],
        ["portfolio", "show", "ada"],
        ["portfolio", "funnel"],
        ["db", "current"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_commands_that_read_refuse_a_db_that_does_not_exist(tmp_path, command, capsys, monkeypatch):
    mistyped = tmp_path / "stroe.sqlite"
    line = last_error(run_main(capsys, monkeypatch, "--db", str(mistyped), *command))
    assert line.startswith(f"error: no store at {mistyped}: check --db or MATCHER_DATABASE_URL")
    assert not mistyped.exists() and list(tmp_path.iterdir()) == []


def test_commands_that_write_make_the_store(tmp_path, capsys, monkeypatch):
    snapshot = write_lines(tmp_path / "s.jsonl", [issue_record(1)])
    new = tmp_path / "new" / "store.sqlite"
    done = run_main(capsys, monkeypatch, "--db", str(new), "import", str(snapshot), "--no-embed")
    assert done.returncode == 0 and new.is_file()


def test_a_snapshot_is_ranked_without_making_the_learners_store(tmp_path, capsys, monkeypatch):
    snapshot = write_lines(tmp_path / "s.jsonl", [issue_record(1)])
    store = tmp_path / "mine.sqlite"
    args = ["--db", str(store), "match", "--skills", "librosa", "--snapshot", str(snapshot)]
    done = run_main(capsys, monkeypatch, *args, "--json")
    assert done.returncode == 0, done.stderr
    assert not store.exists() and (tmp_path / "mine.snapshot.sqlite").is_file()


# --- suggestions that work when followed --------------------------------------------------------
def test_a_repo_suggestion_works_when_followed(tmp_path, fake_github, monkeypatch):
    fake_github.add_repo("pytorch/pytorch", stars=90000, language="Python")
    fake_github.add_issue("pytorch/pytorch", "Document torch.compile for beginners")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"github:\n  api_url: {fake_github.url}\n  graphql_url: {fake_github.graphql_url}\n"
    )
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    shared = ["--config", str(config), "--db", str(tmp_path / "s.sqlite")]
    snapshot = write_lines(tmp_path / "other.jsonl", [issue_record(1)])
    assert runner.invoke(app, [*shared, "import", str(snapshot), "--no-embed"]).exit_code == 0

    guessed = runner.invoke(app, [*shared, "match", "--skills", "python", "--repo", "pytorch"])
    assert guessed.exit_code == 1
    said = str(guessed.exception)
    assert said.startswith("--repo 'pytorch' is not owner/name: did you mean --repo pytorch/")
    suggested = re.search(r"did you mean --repo (\S+?)[ ?]", said).group(1)

    followed = runner.invoke(app, [*shared, "match", "--skills", "python", "--repo", suggested])
    assert followed.exit_code == 0, followed.output
    sync_line = re.search(r"sync it first \(`([^`]+)`\)", followed.stderr).group(1)
    argv = shlex.split(sync_line)
    assert argv[:3] == ["python", "-m", "matcher"]
    synced = runner.invoke(app, [*argv[3:], "--no-embed"])
    assert synced.exit_code == 0, synced.output

    found = runner.invoke(
        app, [*shared, "match", "--skills", "python", "--repo", suggested, "--json"]
    )
    assert found.exit_code == 0 and json.loads(found.stdout)[0]["repo"] == "pytorch/pytorch"


def test_a_repo_that_names_nothing_known_gets_an_example(tmp_path):
    empty_store(tmp_path / "s.sqlite")
    result = runner.invoke(
        app, ["--db", str(tmp_path / "s.sqlite"), "match", "--skills", "x", "--repo", "zzzq"]
    )
    assert (
        str(result.exception) == "--repo 'zzzq' is not owner/name (e.g. huggingface/transformers)"
    )


# --- what import is given -----------------------------------------------------------------------
def test_a_json_array_is_named_in_one_line(tmp_path, capsys, monkeypatch):
    array = tmp_path / "issues.json"
    array.write_text(json.dumps([issue_record(n) for n in range(1, 199)], indent=2))
    done = run_main(capsys, monkeypatch, "--db", str(tmp_path / "s.sqlite"), "import", str(array))
    assert done.stderr.count("\n") == 1, done.stderr  # one line, not 198 warnings
    assert last_error(done) == (
        f"error: {array}: a JSON array of 198 objects, not JSON lines: a snapshot has one issue "
        "object per line (`jq -c '.[]' FILE > issues.jsonl` converts it)"
    )
    assert not (tmp_path / "s.sqlite").exists()


def test_match_json_output_given_to_import_is_named(tmp_path, capsys, monkeypatch):
    store = tmp_path / "s.sqlite"
    write_lines(tmp_path / "in.jsonl", [issue_record(n) for n in range(1, 4)])
    assert (
        runner.invoke(app, ["--db", str(store), "import", str(tmp_path / "in.jsonl")]).exit_code
        == 0
    )
    for args, what in [
        (["--json"], "the output of `match --json` (ranked matches)"),
        (["--profiles", "-"], "the output of `match --profiles` (matches per learner)"),
    ]:
        ranked = runner.invoke(
            app,
            ["--db", str(store), "match", "--skills", "librosa", *args],
            input='[{"id": "ada", "skills": "librosa"}]',
        )
        assert ranked.exit_code == 0, ranked.output
        output = tmp_path / "ranked.json"
        output.write_text(ranked.stdout)
        done = run_main(capsys, monkeypatch, "--db", str(store), "import", str(output))
        assert done.stderr.count("\n") == 1, done.stderr
        assert last_error(done) == (
            f"error: {output} is {what}, not a snapshot: import JSON lines, one issue per line, "
            "as `python -m matcher export` writes them"
        )


def test_a_bad_first_line_is_one_bad_line_among_good_ones(tmp_path, capsys, monkeypatch):
    snapshot = tmp_path / "s.jsonl"
    snapshot.write_text("{broken\n" + json.dumps(issue_record(1)) + "\n")
    done = run_main(
        capsys, monkeypatch, "--db", str(tmp_path / "s.sqlite"), "import", str(snapshot)
    )
    assert done.returncode == 0, done.stderr
    assert f"warning: {snapshot}: line 1: invalid JSON" in done.stderr
    assert "1 issues (1 new" in done.stderr


def test_pull_request_urls_are_refused_and_say_so(tmp_path, capsys, monkeypatch):
    pull = issue_record(7, url="https://github.com/a/b/pull/7")
    snapshot = write_lines(tmp_path / "s.jsonl", [pull, issue_record(8)])
    done = run_main(
        capsys, monkeypatch, "--db", str(tmp_path / "s.sqlite"), "import", str(snapshot)
    )
    assert done.returncode == 0
    assert (
        f"warning: {snapshot}: line 1: key 'url' 'https://github.com/a/b/pull/7' is a pull "
        "request, not an issue: a snapshot holds issues (https://github.com/a/b/issues/7)"
    ) in done.stderr


def test_import_and_match_profiles_read_stdin(tmp_path):
    store = ["--db", str(tmp_path / "s.sqlite")]
    lines = "".join(json.dumps(issue_record(n)) + "\n" for n in (1, 2))
    imported = runner.invoke(app, [*store, "import", "-", "--json", "--no-embed"], input=lines)
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["added"] == 2
    profiles = json.dumps([{"id": "ada", "skills": "librosa"}, {"id": "bo", "skills": "audio"}])
    ranked = runner.invoke(app, [*store, "match", "--profiles", "-"], input=profiles)
    assert ranked.exit_code == 0, ranked.output
    assert set(json.loads(ranked.stdout)) == {"ada", "bo"}


# --- the demo stays a demo ----------------------------------------------------------------------
def test_demo_issues_stay_demo_through_import_match_and_export(tmp_path, capsys, monkeypatch):
    store = ["--db", str(tmp_path / "s.sqlite")]
    real = write_lines(tmp_path / "real.jsonl", [issue_record(1)])
    demo = run_main(capsys, monkeypatch, *store, "import", str(demo_snapshot_path()), "--no-embed")
    assert "220 are demo data (invented), shown as DEMO" in demo.stderr
    assert run_main(capsys, monkeypatch, *store, "import", str(real), "--no-embed").returncode == 0

    exported = run_main(capsys, monkeypatch, *store, "export", "-")
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    assert sum(r.get("demo") is True for r in records) == 220 and len(records) == 221
    assert "220 of the 221 issues exported are demo data (invented)" in exported.stderr

    matches = json.loads(
        run_main(capsys, monkeypatch, *store, "match", "--skills", "PyTorch", "--json").stdout
    )
    assert matches and all(m["demo"] is True for m in matches)
    table = run_main(capsys, monkeypatch, *store, "match", "--skills", "librosa").stdout
    assert "DEMO DATA" in table and "a/b#1\n" in table  # the real issue carries no "demo"

    again = tmp_path / "again.sqlite"
    (tmp_path / "exported.jsonl").write_text(exported.stdout)
    done = run_main(
        capsys,
        monkeypatch,
        "--db",
        str(again),
        "import",
        str(tmp_path / "exported.jsonl"),
        "--json",
        "--no-embed",
    )
    assert json.loads(done.stdout)["demo"] == 220


def test_a_store_holding_demo_issues_says_so_even_when_none_is_shown(tmp_path, capsys, monkeypatch):
    store = ["--db", str(tmp_path / "s.sqlite")]
    real = write_lines(tmp_path / "real.jsonl", [issue_record(1, repo="x/y")])
    for source in (demo_snapshot_path(), real):
        assert (
            run_main(capsys, monkeypatch, *store, "import", str(source), "--no-embed").returncode
            == 0
        )
    table = run_main(
        capsys, monkeypatch, *store, "match", "--skills", "librosa", "--repo", "x/y"
    ).stdout
    assert "x/y#1" in table and "DEMO DATA" in " ".join(table.split())


# --- no lock files ------------------------------------------------------------------------------
def test_no_migrate_lock_file_is_left_beside_a_store(tmp_path, capsys, monkeypatch):
    empty_store(tmp_path / "s.sqlite")
    run_main(capsys, monkeypatch, "--db", str(tmp_path / "s.sqlite"), "match", "--skills", "x")
    assert not [p.name for p in tmp_path.iterdir() if "lock" in p.name]


def test_the_migration_lock_still_excludes_while_it_cleans_up(tmp_path):
    from matcher.store.migrations import _file_lock

    lock, inside, overlaps = tmp_path / "s.sqlite.migrate-lock", [], []

    def migrate() -> None:
        for _ in range(20):
            with _file_lock(lock):
                inside.append(1)
                if len(inside) > 1:
                    overlaps.append(1)
                time.sleep(0.001)
                inside.pop()

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [] and not lock.exists()


# --- version, completion, --help ----------------------------------------------------------------
def test_version():
    done = subprocess.run(
        [sys.executable, "-m", "matcher", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=subprocess_env(),
        timeout=60,
    )
    assert done.returncode == 0 and re.fullmatch(r"ml-first-issues \d+\.\d+\.\d+\S*\n", done.stdout)


def test_shell_completion_is_offered_and_completes(tmp_path):
    script = tmp_path / "ml-first-issues"  # the console script's name, as installed
    script.write_text("from matcher.cli import main\nmain()\n")
    shown = subprocess.run(
        [sys.executable, str(script), "--show-completion", "bash"],
        capture_output=True,
        text=True,
        # typer's own switch: the shell is the option's value, not guessed from the parent
        # process (a test run detached from any shell would otherwise find none)
        env=subprocess_env(_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1"),
        timeout=60,
    )
    assert shown.returncode == 0 and "_ML_FIRST_ISSUES_COMPLETE=complete_bash" in shown.stdout
    completed = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=subprocess_env(
            _ML_FIRST_ISSUES_COMPLETE="complete_bash",
            COMP_WORDS="ml-first-issues ma",
            COMP_CWORD="1",
        ),
        timeout=60,
    )
    assert completed.stdout.split() == ["match"]
    assert "--install-completion" in runner.invoke(app, ["--help"]).stdout


def test_help_imports_no_store_and_no_model_and_is_quick():
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "matcher", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=subprocess_env(),
        timeout=60,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0 and "match" in done.stdout
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines()}
    heavy = {"sqlalchemy", "alembic", "pydantic", "numpy", "torch", "sentence_transformers"}
    assert heavy.isdisjoint(imported) and not any(m.startswith("matcher.store") for m in imported)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 1.0, f"--help took {cpu:.2f} CPU-s"  # ~0.3 CPU-s; 1.3 before issue 21


# --- clean output -------------------------------------------------------------------------------
def test_the_match_table_has_no_trailing_spaces(tmp_path):
    matches = [
        Match(
            Issue(url="https://github.com/a/b/issues/1", repo="a/b", number=1, title="T " * 60),
            0.5,
            ["written in Python, which you know", "docs task", "labelled 'good first issue'"],
        )
    ]
    out = console(file=open(tmp_path / "out.txt", "w"), width=60)  # noqa: SIM115
    print_matches(matches, out, demo=True)
    out.file.close()
    lines = (tmp_path / "out.txt").read_text().splitlines()
    assert len(lines) > 8 and [line for line in lines if line != line.rstrip()] == []


def test_no_escape_codes_off_a_terminal_even_when_colour_is_forced(tmp_path):
    snapshot = tmp_path / "s.jsonl"
    snapshot.write_text(json.dumps(issue_record(1)) + "\n{broken\n")
    forced = subprocess_env(
        FORCE_COLOR="1", PY_COLORS="1", GITHUB_ACTIONS="true", TERM="xterm-256color"
    )
    runs = [
        ["--db", str(tmp_path / "s.sqlite"), "import", str(snapshot), "--no-embed"],
        ["match", "--no-such-option"],  # Typer's own usage error
    ]
    for args in runs:
        done = subprocess.run(
            [sys.executable, "-m", "matcher", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=forced,
            timeout=300,
        )
        assert done.stdout or done.stderr
        assert "\x1b" not in done.stdout + done.stderr, args


def test_the_match_table_has_no_escape_codes_when_redirected(tmp_path, capsys, monkeypatch):
    for name in ("FORCE_COLOR", "PY_COLORS", "TTY_COMPATIBLE"):
        monkeypatch.setenv(name, "1")
    store = ["--db", str(tmp_path / "s.sqlite")]
    assert (
        run_main(capsys, monkeypatch, *store, "import", str(demo_snapshot_path())).returncode == 0
    )
    done = run_main(capsys, monkeypatch, *store, "match", "--skills", "PyTorch", "--top", "4")
    assert "DEMO DATA" in done.stdout and "\x1b" not in done.stdout + done.stderr


def test_the_error_line_of_a_store_never_shows_its_password():
    with pytest.raises(StoreError) as error:
        Database("postgresql://ada:s3cret@127.0.0.1:9/m")
    assert "s3cret" not in str(error.value)


# --- docs/snapshots.md quotes the lines the code prints -----------------------------------------
def test_the_snapshot_docs_quote_the_real_lines():
    from matcher.cli.common import open_store
    from matcher.download import check_https
    from matcher.snapshot import _describe_document, issue_from_record

    docs = " ".join((ROOT / "docs" / "snapshots.md").read_text().split())
    lines = []
    with pytest.raises(Exception) as refused:
        check_https("http://example.org/issues.jsonl")
    lines.append(f"error: {refused.value}")
    lines.append(f"error: {_describe_document([{'url': 'x'}] * 198, 'issues.json')}")
    ranked = [{"score": 1.0, "reasons": []}]
    lines.append(f"error: {_describe_document(ranked, 'ranked.json')}")
    lines.append(f"error: {_describe_document({'ada': ranked}, 'ranked.json')}")
    with pytest.raises(ValueError) as pull:
        issue_from_record(issue_record(7, url="https://github.com/a/b/pull/7"))
    lines.append(f"warning: issues.jsonl: line 1: {pull.value}")
    settings = load_settings(database_url="/home/ada/stroe.sqlite")
    with pytest.raises(StoreError) as missing:
        open_store(settings)
    lines.append(f"error: {missing.value}")
    for line in lines:
        assert line in docs, line


def test_sync_repos_that_are_not_owner_name_get_the_same_suggestions(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    store = tmp_path / "s.sqlite"
    result = runner.invoke(app, ["--db", str(store), "sync", "--repos", "transformers"])
    assert result.exit_code == 1 and not store.exists()
    assert str(result.exception) == (
        "--repos 'transformers' is not owner/name: did you mean --repos huggingface/transformers?"
    )
