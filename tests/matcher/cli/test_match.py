import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import matcher.embedding
import matcher.engine
from matcher.cli import app
from matcher.embedding import embedding_key
from matcher.settings import load_settings
from matcher.snapshot import demo_snapshot_path
from tests.fakes.embedder import HashingEmbedder
from tests.matcher.cli.helpers import empty_store, run_main
from tests.matcher.test_ramp_ranking import BUG_TASK, DOCS_TASK

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


@pytest.fixture
def embedder():
    """These tests check the CLI's output and caching, not ranking quality: the hashing embedder
    stands in for the model (tests/test_packaging.py runs the real one on the demo). It carries
    the configured model's store key, as a loaded model does: stored vectors are looked up by it."""
    return HashingEmbedder(dim=256, name=embedding_key(load_settings().model))


@pytest.fixture(autouse=True)
def shared_model(monkeypatch, embedder, no_shipped_vectors):
    """Every command in this module reuses one embedder and counts what it encodes."""
    monkeypatch.setattr(matcher.engine, "load_embedder", lambda name: embedder)
    monkeypatch.setattr(matcher.embedding, "load_embedder", lambda name: embedder)


def invoke(tmp_path, *args):
    result = runner.invoke(
        app, ["--db", str(tmp_path / "cli.sqlite"), *args], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result


def test_match_json_shape_on_the_demo_snapshot(tmp_path):
    empty_store(tmp_path / "cli.sqlite")
    result = invoke(
        tmp_path,
        "match",
        "--skills",
        "Python, PyTorch, OpenCV",
        "--niche",
        "computer vision",
        "--top",
        "7",
        "--json",
    )
    matches = json.loads(result.stdout)
    assert isinstance(matches, list) and len(matches) == 7
    for m in matches:
        assert {"url", "repo", "title", "score", "reasons"} <= set(m)
        assert m["url"].startswith("https://github.com/") and m["reasons"]
    assert [m["score"] for m in matches] == sorted((m["score"] for m in matches), reverse=True)


def test_batch_profiles_and_second_run_embeds_nothing(tmp_path, embedder):
    profiles = tmp_path / "p.json"
    profiles.write_text(
        json.dumps(
            [
                {"id": "cv", "skills": "PyTorch, OpenCV", "niche": "computer vision"},
                {"id": "ops", "skills": "Docker, GitHub Actions", "niche": "MLOps"},
            ]
        )
    )
    args = (
        "match",
        "--profiles",
        str(profiles),
        "--snapshot",
        str(demo_snapshot_path()),
        "--top",
        "5",
        "--json",
    )
    first = json.loads(invoke(tmp_path, *args).stdout)
    encoded_first = embedder.encoded
    second = json.loads(invoke(tmp_path, *args).stdout)
    assert set(first) == {"cv", "ops"} and all(len(v) == 5 for v in first.values())
    assert embedder.encoded - encoded_first == 2  # only the two profile texts
    assert first == second


def test_snapshot_restricts_the_pool(tmp_path):
    snap = tmp_path / "one.jsonl"
    snap.write_text(
        json.dumps(
            {
                "url": "https://github.com/a/b/issues/1",
                "repo": "a/b",
                "number": 1,
                "title": "Add a librosa example",
                "body": "",
                "labels": [],
            }
        )
        + "\n"
    )
    invoke(tmp_path, "import", str(demo_snapshot_path()))
    matches = json.loads(
        invoke(tmp_path, "match", "--skills", "librosa", "--snapshot", str(snap), "--json").stdout
    )
    assert [m["url"] for m in matches] == ["https://github.com/a/b/issues/1"]


def test_import_then_export(tmp_path):
    summary = json.loads(invoke(tmp_path, "import", str(demo_snapshot_path()), "--json").stdout)
    assert summary["added"] == summary["read"] > 150
    again = json.loads(invoke(tmp_path, "import", str(demo_snapshot_path()), "--json").stdout)
    assert again["added"] == 0 and again["unchanged"] == summary["read"]
    out = tmp_path / "out.jsonl"
    invoke(tmp_path, "export", str(out))
    assert len(out.read_text().splitlines()) == summary["read"]


@pytest.mark.parametrize(
    "content,expected",
    [
        ("not json", "invalid JSON"),
        ("[]", "non-empty JSON list"),
        ('[{"id": "x", "skills": "", "niche": ""}]', "profile 'x' is empty"),
        ('[{"id": "x", "skills": 3}]', "must be strings"),
        (
            '[{"id": "x", "skills": "python", "pace": "fast"}]',
            "item 0: pace must be one of easier, auto, harder (got 'fast')",
        ),
        ('[{"id": "x", "skills": "python", "pace": 2}]', "'pace' must be easier, auto or harder"),
    ],
)
def test_bad_profiles_give_one_line_errors(tmp_path, content, expected, capsys, monkeypatch):
    path = tmp_path / "p.json"
    path.write_text(content)
    result = run_main(
        capsys, monkeypatch, "--db", str(tmp_path / "s.sqlite"), "match", "--profiles", str(path)
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error:") and expected in lines[-1]
    assert "Traceback" not in result.stderr


def _ramp_snapshot(tmp_path) -> Path:
    """A docs task that fits the words a little better than a comparable bug fix."""
    snap = tmp_path / "ramp.jsonl"
    issues = [
        (DOCS_TASK, ["good first issue", "documentation"]),
        (BUG_TASK, ["good first issue", "bug"]),
    ]
    snap.write_text(
        "".join(
            json.dumps(
                {
                    "url": i.url,
                    "repo": i.repo,
                    "number": i.number,
                    "title": i.title,
                    "body": i.body,
                    "labels": labels,
                }
            )
            + "\n"
            for i, labels in issues
        )
    )
    return snap


def test_pace_moves_the_ranking_and_says_so(tmp_path):
    snap = str(_ramp_snapshot(tmp_path))
    words = ("--skills", "tokenizer padding truncation", "--niche", "NLP", "--snapshot", snap)
    easier = json.loads(invoke(tmp_path, "match", *words, "--pace", "easier", "--json").stdout)
    assert [m["url"] for m in easier] == [DOCS_TASK.url, BUG_TASK.url]
    harder = json.loads(invoke(tmp_path, "match", *words, "--pace", "harder", "--json").stdout)
    assert [m["url"] for m in harder] == [BUG_TASK.url, DOCS_TASK.url]
    assert "a harder one, as you asked" in harder[0]["reasons"]

    profiles = tmp_path / "p.json"
    profiles.write_text(
        json.dumps(
            [
                {"id": "keen", "skills": "tokenizer padding truncation", "pace": "harder"},
                {"id": "calm", "skills": "tokenizer padding truncation"},
            ]
        )
    )
    batch = json.loads(
        invoke(tmp_path, "match", "--profiles", str(profiles), "--snapshot", snap).stdout
    )
    assert [m["url"] for m in batch["keen"]] == [BUG_TASK.url, DOCS_TASK.url]
    assert [m["url"] for m in batch["calm"]] == [DOCS_TASK.url, BUG_TASK.url]
    # --pace stands for the entries that name none
    both = invoke(
        tmp_path, "match", "--profiles", str(profiles), "--snapshot", snap, "--pace", "harder"
    )
    assert [m["url"] for m in json.loads(both.stdout)["calm"]] == [BUG_TASK.url, DOCS_TASK.url]


def test_a_bad_pace_is_one_line(tmp_path, capsys, monkeypatch):
    result = run_main(
        capsys, monkeypatch, "--db", str(tmp_path / "s.sqlite"), "match", "--skills", "python",
        "--pace", "fast",
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == "error: pace must be one of easier, auto, harder (got 'fast')"


def test_malformed_config_is_one_line(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.yaml"
    bad.write_text("top_k: many\n")
    result = run_main(capsys, monkeypatch, "--config", str(bad), "match", "--skills", "x")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "key 'top_k'" in result.stderr and str(bad) in result.stderr


def test_every_command_has_help_and_is_in_the_readme():
    readme = (ROOT / "docs" / "cli.md").read_text()  # its table lists every command
    import typer.main

    group = typer.main.get_command(app)
    names = []
    for name, command in group.commands.items():
        subcommands = getattr(command, "commands", None)
        names += [f"{name} {sub}" for sub in subcommands] if subcommands else [name]
        assert command.help or getattr(command, "short_help", None), name
    for name in names:
        assert re.search(rf"python -m matcher {re.escape(name)}\b", readme), (
            f"docs/cli.md lacks `{name}`"
        )


def test_nothing_to_rank_is_not_a_traceback(tmp_path, capsys, monkeypatch):
    invoke(tmp_path, "import", str(demo_snapshot_path()))
    unknown = invoke(tmp_path, "match", "--skills", "python", "--repo", "nobody/nothing", "--json")
    assert json.loads(unknown.stdout) == []
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"url": "x"}\nnot json\n')
    result = run_main(
        capsys,
        monkeypatch,
        *("--db", str(tmp_path / "cli.sqlite"), "match", "--skills", "python"),
        *("--snapshot", str(bad)),
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {bad}: no valid issue")


def test_the_demo_is_ranked_without_filling_the_learners_store(tmp_path):
    from matcher.store import Database
    from matcher.store.issues import count_issues

    empty_store(tmp_path / "cli.sqlite")
    first = json.loads(
        invoke(tmp_path, "match", "--skills", "PyTorch", "--niche", "vision", "--json").stdout
    )
    assert first  # ranked the bundled demo
    store = Database(f"sqlite:///{tmp_path / 'cli.sqlite'}")
    assert count_issues(store) == 0  # ...which did not become part of the store sync fills
    store.close()
    again = json.loads(
        invoke(tmp_path, "match", "--skills", "PyTorch", "--niche", "vision", "--json").stdout
    )
    assert again == first


def test_the_terminal_and_json_say_when_an_issue_waits_or_was_left(tmp_path):
    issue = {
        "repo": "a/b",
        "title": "Add a librosa example",
        "body": "Show mel spectrograms with librosa.",
        "labels": ["good first issue"],
    }
    snap = tmp_path / "two.jsonl"
    snap.write_text(
        json.dumps(
            dict(issue, url="https://github.com/a/b/issues/1", number=1, updated_at="2020-01-01")
        )
        + "\n"
        + json.dumps(
            dict(
                issue,
                url="https://github.com/a/b/issues/2",
                number=2,
                updated_at="2020-01-01",
                unanswered_comments=2,
                unanswered_since="2019-12-01",
            )
        )
        + "\n"
    )
    found = json.loads(
        invoke(tmp_path, "match", "--skills", "librosa", "--snapshot", str(snap), "--json").stdout
    )
    reasons = {m["number"]: m["reasons"] for m in found}
    assert re.fullmatch(r"no activity for \d+ years: it may be abandoned", reasons[1][0])
    assert re.fullmatch(
        r"2 comments waiting for a maintainer's answer for \d+ years", reasons[2][1]
    )
    shown = invoke(tmp_path, "match", "--skills", "librosa", "--snapshot", str(snap)).stdout
    assert "it may be abandoned" in shown and "waiting for a maintainer" in re.sub(
        r"\s+", " ", shown
    )
