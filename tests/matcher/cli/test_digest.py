"""`python -m matcher digest preview`: the learner's next digest from the bot's own operations."""

import json
from datetime import UTC, datetime

import pytest

import matcher.engine
from matcher.operations.digests import deliveries
from matcher.operations.profiles import clean_profile_update, save_profile, set_digest
from matcher.operations.suggestions import record_suggestions, suggestions_for
from matcher.store import Database
from matcher.store.issues import upsert_issues
from tests.bot.fakes import ISSUES, HashingEmbedder
from tests.matcher.cli.helpers import run_main

SINCE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(matcher.engine, "load_embedder", lambda name: HashingEmbedder())
    path = tmp_path / "bot.sqlite"
    db = Database(f"sqlite:///{path}")
    upsert_issues(db, ISSUES)
    update = clean_profile_update(skills="python, pytorch, tokenizer", niche="nlp", timezone="UTC")
    save_profile(db, "42", update, now=SINCE)
    set_digest(db, "42", True, now=SINCE)
    yield db, str(path)
    db.close()


def test_preview_json_holds_new_matches_and_records_nothing(store, capsys, monkeypatch):
    db, path = store
    seen = ISSUES[0].url
    record_suggestions(db, "42", [seen], via="digest", now=SINCE)
    result = run_main(capsys, monkeypatch, "--db", path, "digest", "preview", "42", "--json")
    assert result.returncode == 0, result.stderr
    preview = json.loads(result.stdout)
    assert preview["learner_id"] == "42" and preview["digest_enabled"] is True
    assert preview["week"].startswith("20") and "-W" in preview["week"]
    assert datetime.fromisoformat(preview["next_at"]) > datetime.now(UTC)
    urls = [m["url"] for m in preview["matches"]]
    assert 1 <= len(urls) <= 5 and seen not in urls  # a digest never repeats what was sent
    assert all(m["reasons"] for m in preview["matches"])
    assert [s.issue_url for s in suggestions_for(db, "42")] == [seen]  # a preview is not a send
    assert deliveries(db, "42") == []


def test_preview_table_starts_with_the_digest_line(store, capsys, monkeypatch):
    _, path = store
    result = run_main(capsys, monkeypatch, "--db", path, "digest", "preview", "42", "--top", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Learner 42: digest on, Mondays at 09:00 (UTC); next at ")
    assert lines[1].startswith("Your weekly matches (") and "2 new issues" in lines[1]
    assert "huggingface/" in result.stdout


def test_unknown_learner_is_one_line(store, capsys, monkeypatch):
    _, path = store
    result = run_main(capsys, monkeypatch, "--db", path, "digest", "preview", "7")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: no learner '7' in this store: a learner sets a profile with /profile set in "
        "Discord (check --db)"
    ]
