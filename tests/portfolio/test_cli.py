"""`python -m matcher portfolio ...` through the real CLI entry point."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from matcher.cli import app
from matcher.store import Database
from tests.portfolio.sample import CONTRIBUTIONS, LOGIN, populate

ROOT = Path(__file__).resolve().parents[2]


def _store(tmp_path, verified=True) -> Path:
    path = tmp_path / "store.sqlite"
    db = Database(f"sqlite:///{path}")
    populate(db, verified=verified)
    db.close()
    return path


def test_show_html_writes_the_page(tmp_path):
    store = _store(tmp_path)
    page = tmp_path / "page.html"
    result = CliRunner().invoke(
        app,
        ["--db", str(store), "portfolio", "show", LOGIN, "--format", "html", "--out", str(page)],
    )
    assert result.exit_code == 0, result.output
    text = page.read_text(encoding="utf-8")
    assert text.count('<svg class="chart"') == 2  # the chart, inline: wide and narrow
    assert all(f'href="{c.url}"' in text for c in CONTRIBUTIONS)


def test_show_formats_on_stdout(tmp_path):
    store = _store(tmp_path)
    runner = CliRunner()
    md = runner.invoke(app, ["--db", str(store), "portfolio", "show", LOGIN, "--format", "md"])
    assert md.exit_code == 0 and md.stdout.startswith("## Open-source contributions")
    js = runner.invoke(app, ["--db", str(store), "portfolio", "show", LOGIN, "-f", "json"])
    assert json.loads(js.stdout)["login"] == LOGIN
    table = runner.invoke(app, ["--db", str(store), "portfolio", "show", LOGIN])
    assert table.exit_code == 0 and "verified" in table.stdout


def test_show_md_writes_the_chart_beside_the_readme(tmp_path):
    store = _store(tmp_path)
    readme = tmp_path / "profile" / "README.md"
    result = CliRunner().invoke(
        app,
        [
            *("--db", str(store), "portfolio", "show", LOGIN, "-f", "md"),
            *("--out", str(readme), "--chart", "img/contributions.png", "--rows", "2"),
        ],
    )
    assert result.exit_code == 0, result.output
    image = tmp_path / "profile" / "img" / "contributions.png"
    assert image.read_bytes()[:4] == b"\x89PNG"
    md = readme.read_text(encoding="utf-8")
    alt_and_link = r"!\[Merged pull requests per (week|month) [^]]+\]\(img/contributions\.png\)"
    assert re.search(alt_and_link, md)
    assert len([x for x in md.splitlines() if x.startswith("| [")]) == 2 and "…and 2 more" in md
    svg = CliRunner().invoke(
        app,
        [
            "--db",
            str(store),
            "portfolio",
            "show",
            LOGIN,
            "-f",
            "md",
            "--chart",
            str(tmp_path / "c.svg"),
        ],
    )
    assert svg.exit_code == 0 and (tmp_path / "c.svg").read_bytes().lstrip().startswith(b"<?xml")


def test_show_chart_option_errors_are_one_line(tmp_path):
    store = _store(tmp_path)
    base = ["--db", str(store), "portfolio", "show", LOGIN]
    for extra, message in (
        (["-f", "html", "--chart", "c.png"], "--chart goes with --format md"),
        (["-f", "md", "--chart", "c.gif"], "name a .png or .svg file"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "matcher", *base, *extra],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert proc.returncode == 1 and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "c.png").exists()


def test_funnel_json(tmp_path):
    store = _store(tmp_path)
    result = CliRunner().invoke(app, ["--db", str(store), "portfolio", "funnel", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"] == {
        "suggested": 2,
        "interested": 1,
        "working": 1,
        "merged": 1,
    }


def test_every_portfolio_command_has_help():
    for command in ("link", "verify", "refresh", "show", "funnel"):
        result = CliRunner().invoke(app, ["portfolio", command, "--help"])
        assert result.exit_code == 0 and len(result.stdout) > 100


def test_unknown_login_is_one_line_and_exit_1(tmp_path):
    store = _store(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "matcher", "--db", str(store), "portfolio", "show", "nobody-here"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "no portfolio for nobody-here" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def _env(gh, tmp_path, monkeypatch):
    from tests.portfolio.conftest import TOKEN

    monkeypatch.setenv("MATCHER_GITHUB__API_URL", gh.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    return ["--db", str(tmp_path / "cli.sqlite")]


def test_link_verify_refresh_show_against_the_fake_github(gh, fake, tmp_path, monkeypatch):
    base = _env(gh, tmp_path, monkeypatch)
    runner = CliRunner()
    linked = runner.invoke(app, [*base, "portfolio", "link", "ada", "--learner", "77"])
    assert linked.exit_code == 0, linked.output
    code = linked.stdout.strip()
    assert code.startswith("mfi-verify-")
    fake.add_gist("ada", code)

    verified = runner.invoke(app, [*base, "portfolio", "verify", "ada"])
    assert verified.exit_code == 0 and "ada verified for learner 77" in verified.stdout

    first = runner.invoke(app, [*base, "portfolio", "refresh", "ada"])
    assert first.exit_code == 0 and "2 merged pull requests seen, 2 new" in first.stdout
    second = runner.invoke(app, [*base, "portfolio", "refresh", "ada"])
    assert "0 new" in second.stdout

    page = tmp_path / "page.html"
    shown = runner.invoke(
        app, [*base, "portfolio", "show", "ada", "--format", "html", "--out", str(page)]
    )
    assert shown.exit_code == 0
    assert 'href="https://github.com/acme/vision/pull/21"' in page.read_text(encoding="utf-8")


def test_cli_unknown_login_against_github_is_one_line(gh, fake, tmp_path, monkeypatch):
    base = _env(gh, tmp_path, monkeypatch)
    import os

    proc = subprocess.run(
        [sys.executable, "-m", "matcher", *base, "portfolio", "refresh", "no-such-learner"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={**os.environ},
    )
    assert proc.returncode == 1, proc.stderr
    assert "GitHub has no user 'no-such-learner'" in proc.stderr
    assert "Traceback" not in proc.stderr and "ghp_" not in proc.stderr


def test_unreachable_github_is_one_line_without_retry_noise(tmp_path):
    import os
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "MATCHER_GITHUB__API_URL": f"http://127.0.0.1:{port}",
        "MATCHER_GITHUB__MAX_RETRIES": "1",
        "GITHUB_TOKEN": "ghp_unreachable_token",
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "matcher",
            "--db",
            str(tmp_path / "s.sqlite"),
            "portfolio",
            "refresh",
            "ada",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()], proc.stderr
    assert proc.stderr.startswith("error: cannot reach GitHub") and "ghp_" not in proc.stderr


def test_show_is_the_learners_own_view_unless_public(tmp_path):
    """On the learner's own store the table and JSON carry the private part; --public, and the
    Markdown and HTML exports (always: they are for publishing), carry the public part only."""
    store = _store(tmp_path)
    runner = CliRunner()
    base = ["--db", str(store), "portfolio", "show", LOGIN]
    private = "https://github.com/pytorch/pytorch/issues/1"  # the learner's next suggested issue

    own_json = json.loads(runner.invoke(app, [*base, "-f", "json"]).stdout)
    assert own_json["audience"] == "learner" and own_json["funnel"]["suggested"] == 2
    assert own_json["next_issue"]["url"] == private
    public_json = json.loads(runner.invoke(app, [*base, "-f", "json", "--public"]).stdout)
    assert public_json["audience"] == "public"
    assert not {"funnel", "next_issue", "pending_login"} & set(public_json)
    assert "suggested" not in json.dumps(public_json)

    own_table = runner.invoke(app, [*base]).stdout
    assert "suggestions: 2 suggested" in own_table and "ramp:" in own_table
    public_table = runner.invoke(app, [*base, "--public"]).stdout
    assert "Contributions (public part)" in public_table
    assert "suggest" not in public_table and "ramp:" not in public_table

    for fmt in ("md", "html"):
        for extra in ([], ["--public"]):
            shown = runner.invoke(app, [*base, "-f", fmt, *extra])
            assert shown.exit_code == 0, shown.output
            text = shown.stdout
            assert private not in text and "suggest" not in text.lower(), (fmt, extra)
            assert "Ramp" not in text and "ago" not in text.split(), (fmt, extra)
            assert "latest merge 20 Feb 2026" in text, (fmt, extra)
