"""Commands that do not rank start without torch, sentence-transformers or scikit-learn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matcher.cli import app
from matcher.snapshot import demo_snapshot_path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "sentence_transformers", "sklearn", "transformers")
PROBE = """
import json, sys
from typer.main import get_command
from matcher.cli import app
try:
    get_command(app).main(sys.argv[1:], prog_name="matcher", standalone_mode=False)
except Exception as error:  # a command's own error (no such portfolio) is not what is tested
    print(error)
finally:
    print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def loaded(args: list[str], tmp_path: Path, module: str = "matcher") -> list[str]:
    code = PROBE.format(heavy=HEAVY)
    if module == "bot":
        code = (
            "import json, sys, runpy\ntry:\n    runpy.run_module('bot', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)), file=sys.stderr)"
        )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MATCHER_DATABASE_URL": ""}
    env.pop("DISCORD_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    return json.loads(result.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--db", "{db}", "import", "{snapshot}", "--no-embed"],
        ["--db", "{db}", "export", "-"],
        ["--db", "{db}", "portfolio", "show", "someone", "--format", "json"],
    ],
    ids=["help", "import --no-embed", "export", "portfolio show"],
)
def test_commands_that_do_not_rank_import_no_model(tmp_path, args):
    db = tmp_path / "store.sqlite"
    filled = [a.format(db=db, snapshot=demo_snapshot_path()) for a in args]
    assert loaded(filled, tmp_path) == []


def test_bot_help_imports_no_model(tmp_path):
    assert loaded(["--help"], tmp_path, module="bot") == []


def test_import_embeds_new_texts_once_and_no_embed_skips(tmp_path, monkeypatch, no_shipped_vectors):
    import matcher.embedding
    from tests.fakes.embedder import HashingEmbedder

    embedder = HashingEmbedder()
    monkeypatch.setattr(matcher.embedding, "load_embedder", lambda name: embedder)
    runner = CliRunner()

    def run(db: str, *extra: str) -> dict:
        result = runner.invoke(
            app, ["--db", str(tmp_path / db), "import", str(demo_snapshot_path()), "--json", *extra]
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert run("a.sqlite", "--no-embed")["embedded"] == 0 and embedder.encoded == 0
    first = run("b.sqlite")
    assert first["embedded"] == embedder.encoded > 150
    assert run("b.sqlite")["embedded"] == 0  # nothing new: the model is not even asked
    assert embedder.encoded == first["embedded"]
