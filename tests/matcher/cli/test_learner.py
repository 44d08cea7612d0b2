"""`python -m matcher learner export|delete ID`: an operator's copy of /profile export|delete."""

from __future__ import annotations

import json

from matcher.operations.profiles import get_learner, update_profile
from matcher.store import Database
from tests.conftest import NOW
from tests.databases import fresh_store_url
from tests.matcher.cli.helpers import run_main

ADA, BOB = "880000000000000001", "990000000000000002"


def _store(tmp_path) -> str:
    url = fresh_store_url(tmp_path / "store.sqlite")
    db = Database(url, migrate=True)
    update_profile(db, ADA, guild_id=None, now=NOW, skills="python, nlp", github_login="ada-gh")
    update_profile(db, BOB, guild_id=None, now=NOW, skills="rust")
    db.close()
    return url


def test_export_prints_or_writes_the_learners_json(tmp_path, capsys, monkeypatch):
    url = _store(tmp_path)
    printed = run_main(capsys, monkeypatch, "--db", url, "learner", "export", ADA)
    assert printed.returncode == 0, printed.stderr
    exported = json.loads(printed.stdout)
    assert exported["tables"]["learners"][0]["skills"] == "python, nlp"
    assert BOB not in printed.stdout
    out = tmp_path / "ada.json"
    written = run_main(capsys, monkeypatch, "--db", url, "learner", "export", ADA, "-o", str(out))
    assert written.returncode == 0 and json.loads(out.read_text())["learner_id"] == ADA


def test_delete_asks_unless_told_yes(tmp_path, capsys, monkeypatch):
    url = _store(tmp_path)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("n\n"))
    refused = run_main(capsys, monkeypatch, "--db", url, "learner", "delete", ADA)
    assert refused.returncode == 1 and "nothing deleted" in refused.stderr
    done = run_main(capsys, monkeypatch, "--db", url, "learner", "delete", ADA, "--yes")
    assert done.returncode == 0 and f"learner {ADA}: deleted" in done.stdout
    assert "learners 1" in done.stdout and "github_identities 1" in done.stdout
    db = Database(url)
    try:
        assert get_learner(db, ADA) is None and get_learner(db, BOB) is not None
    finally:
        db.close()


def test_a_bad_learner_id_is_one_line(tmp_path, capsys, monkeypatch):
    url = _store(tmp_path)
    outcome = run_main(capsys, monkeypatch, "--db", url, "learner", "delete", " ", "--yes")
    assert outcome.returncode == 1
    assert outcome.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "is not a learner id" in outcome.stderr
