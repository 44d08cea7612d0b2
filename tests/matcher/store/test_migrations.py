"""Schema migrations: revision 1 is the schema of main at 2ddde20, older stores are adopted."""

import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text
from typer.testing import CliRunner

from matcher.cli import app
from matcher.errors import StoreError
from matcher.store import Base, Database, migrations
from matcher.store.db import sqlite_path
from matcher.store.issues import load_issues
from matcher.store.learners import get_learner, upsert_learner
from matcher.store.migrations import alembic_config, head_revision
from matcher.store.portfolio import get_identity
from tests import databases

# written by /work/main at commit 2ddde20 (before migrations): one row in every table
LEGACY_STORE = Path(__file__).parent / "data" / "store-2ddde20.sqlite"


def _rows(path: Path) -> dict[str, list[dict]]:
    """Every row of every table, as {column: value}, sorted."""
    with sqlite3.connect(path) as raw:
        tables = [
            name
            for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name not in ("alembic_version", "sync_locks")
        ]
        found = {}
        for name in tables:
            cursor = raw.execute(f'SELECT * FROM "{name}"')
            columns = [d[0] for d in cursor.description]
            found[name] = sorted((dict(zip(columns, row, strict=True)) for row in cursor), key=str)
        return found


def test_a_store_written_by_main_before_migrations_is_adopted_without_losing_a_row(tmp_path):
    path = tmp_path / "legacy.sqlite"
    shutil.copy(LEGACY_STORE, path)
    before = _rows(path)
    assert len(before) == 17 and all(len(rows) == 1 for rows in before.values())

    db = Database(f"sqlite:///{path}")  # a one-user SQLite store migrates on open
    assert db.revision() == head_revision()
    assert [issue.url for issue in load_issues(db, open_only=False)] == ["legacy-issues-url"]
    db.close()
    after = _rows(path)
    # revision 0003: the profile's login moved to the identity table, as an unverified link
    (learner,) = before["learners"]
    login = learner.pop("github_login")
    moved = after["github_identities"].pop()
    assert moved["learner_id"] == learner["learner_id"] and not moved["verified"]
    assert (moved["login"], moved["login_key"]) == (login, login.lower())
    assert after.pop("repo_welcome") == []  # revision 0005: a new table, empty
    # revision 0006: no unanswered comments known; the row was never synced and its updated_at
    # is its created_at (the old snapshot fill), so its last activity becomes unknown
    (issue,) = after["issues"]
    assert (issue.pop("unanswered_comments"), issue.pop("unanswered_since")) == (0, None)
    assert issue.pop("change_seq") == 1  # revision 0008: the counter starts past old rows
    assert after.pop("issue_changes") == [{"id": 1, "seq": 1}]
    assert issue["updated_at"] is None and before["issues"][0]["updated_at"] == issue["created_at"]
    issue["updated_at"] = before["issues"][0]["updated_at"]
    (migrated,) = after["learners"]
    assert migrated.pop("pace") == "auto"  # revision 0007: every learner starts on 'auto'
    assert issue.pop("demo") == 0  # revision 0010: not one of the bundled demo issues
    assert after.pop("leases") == []  # revision 0009: a new table, empty; reservations owner-less
    assert after.pop("text_facts") == []  # revision 0011: a new table, filled by warm-ups
    assert [row.pop("owner") for row in after["digest_deliveries"]] == [None]
    assert after == before


def test_the_migrated_schema_is_what_the_models_declare(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    # a model changed without a new revision under matcher/store/migrations/versions shows here
    assert differences == []


def test_a_store_behind_is_not_migrated_without_permission_and_says_what_to_run(store_url):
    with pytest.raises(StoreError) as caught:
        Database(store_url, migrate=False)
    message = str(caught.value)
    assert "revision none" in message and "run `python -m matcher db upgrade`" in message
    assert "\n" not in message


@pytest.mark.skipif(not databases.on_postgres(), reason="the PostgreSQL policy")
def test_opening_a_postgresql_store_never_migrates_it(store_url):
    with pytest.raises(StoreError, match="db upgrade"):
        Database(store_url)
    assert Database(store_url, check=False).revision() is None


def test_a_store_newer_than_the_code_is_refused(db, store_url):
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError, match="revision 9999, newer than this version"):
        Database(store_url)
    upgrade = CliRunner().invoke(app, ["--db", store_url, "db", "upgrade"])
    assert upgrade.exit_code == 1 and "upgrade the matcher" in str(upgrade.exception)


def test_db_current_and_upgrade_commands(store_url):
    runner = CliRunner()
    path = sqlite_path(store_url)
    if path is not None:  # asking about a file that is not there makes no store (issue 21)
        missing = runner.invoke(app, ["--db", store_url, "db", "current"])
        assert missing.exit_code == 1 and "no store at" in str(missing.exception)
        assert not path.exists()
        path.touch()  # an empty file is an empty SQLite store, at no revision
    behind = runner.invoke(app, ["--db", store_url, "db", "current"])
    assert (
        behind.exit_code == 1 and "revision none" in behind.output and "db upgrade" in behind.output
    )
    upgraded = runner.invoke(app, ["--db", store_url, "db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"migrated from revision none to {head_revision()}" in upgraded.output
    again = runner.invoke(app, ["--db", store_url, "db", "upgrade"])
    assert again.exit_code == 0 and "already at revision" in again.output
    current = runner.invoke(app, ["--db", store_url, "db", "current"])
    assert current.exit_code == 0 and "up to date" in current.output
    assert "@" not in current.output or "***@" in current.output  # never a password


def test_an_unreachable_store_is_one_line_without_the_password():
    url = "postgresql+psycopg://matcher:s3cret@127.0.0.1:9/matcher"  # nothing listens on port 9
    result = subprocess.run(
        [sys.executable, "-m", "matcher", "--db", url, "db", "current"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: cannot open the store at postgresql+psycopg://***@")
    assert "s3cret" not in result.stderr + result.stdout


def _store_at(url: str, revision: str) -> Database:
    db = Database(url, check=False)
    with db.engine.connect() as connection:
        command.upgrade(alembic_config(connection), revision)
        connection.commit()
    return db


def test_0003_moves_profile_logins_into_the_identity_table(store_url):
    """A login typed in /profile (learners.github_login at 0002) becomes an unverified link; a
    learner who already had a verified identity keeps it unchanged; no row is lost."""
    db = _store_at(store_url, "0002")
    learner = (
        "INSERT INTO learners (learner_id, skills, niche, languages, github_login, digest_enabled,"
        " digest_weekday, digest_hour, timezone, updated_at) VALUES (:id, 'python', '', '',"
        " :login, false, 0, 9, 'UTC', '2026-11-30 12:00:00')"
    )
    with db.engine.begin() as connection:
        connection.execute(text(learner), {"id": "1", "login": "Ada-Learns"})
        connection.execute(text(learner), {"id": "2", "login": "old-profile-login"})
        connection.execute(text(learner), {"id": "3", "login": None})
        connection.execute(
            text(
                "INSERT INTO github_identities (learner_id, login, login_key, github_id, verified,"
                " verified_at, created_at) VALUES ('2', 'Grace', 'grace', 7, true,"
                " '2026-11-01 10:00:00', '2026-11-01 09:00:00')"
            )
        )
    with db.engine.connect() as connection:
        verified_before = connection.execute(
            text("SELECT * FROM github_identities WHERE learner_id = '2'")
        ).one()
    db.close()

    db = Database(store_url, migrate=True)
    assert db.revision() == head_revision()
    moved = get_identity(db, "1")
    assert moved is not None and (moved.login, moved.verified, moved.claim) == (
        "Ada-Learns",
        False,
        None,  # no code yet: /github link (or /profile set github:) issues one
    )
    assert get_identity(db, "3") is None
    with db.engine.connect() as connection:
        assert (
            connection.execute(
                text("SELECT login_key FROM github_identities WHERE learner_id = '1'")
            ).scalar_one()
            == "ada-learns"
        )
        assert (
            connection.execute(text("SELECT * FROM github_identities WHERE learner_id = '2'")).one()
            == verified_before
        )
        learner_ids = connection.execute(text("SELECT learner_id FROM learners")).scalars()
        assert sorted(learner_ids) == ["1", "2", "3"]
    columns = {c["name"] for c in sa_inspect(db.engine).get_columns("learners")}
    indexes = {i["name"] for i in sa_inspect(db.engine).get_indexes("learners")}
    assert "github_login" not in columns and "ix_learners_github_login" not in indexes
    assert {"learner_id", "skills", "pending_notice", "updated_at"} <= columns
    db.close()


def test_0006_adds_unanswered_comments_and_forgets_only_invented_activity(store_url):
    """A store at 0005: rows keep everything, get 0 / NULL unanswered comments; a row the sync
    never stored whose updated_at is its created_at (the old snapshot fill) loses updated_at."""
    db = _store_at(store_url, "0005")
    issue = (
        "INSERT INTO issues (url, repo, number, title, body, labels, state, created_at,"
        " updated_at, comments, assignees, linked_prs, claimed, topics, niches, text_hash,"
        " stored_at) VALUES (:url, 'a/b', :n, 't', '', '[]', 'open', :created, :updated, 0,"
        " '[]', '[]', false, '[]', '[]', 'h', '2026-11-30 12:00:00')"
    )
    opened, touched = "2020-02-12 00:00:00", "2026-10-01 08:00:00"
    rows = {
        "https://github.com/a/b/issues/1": (opened, opened),  # snapshot, created_at only
        "https://github.com/a/b/issues/2": (opened, touched),  # snapshot with updated_at
        "https://github.com/a/b/issues/3": (opened, opened),  # synced, never touched
    }
    with db.engine.begin() as connection:
        for n, (url, (created, updated)) in enumerate(rows.items(), start=1):
            connection.execute(
                text(issue), {"url": url, "n": n, "created": created, "updated": updated}
            )
        connection.execute(
            text(
                "INSERT INTO issue_signals (url, repo, beginner_strength, reactions)"
                " VALUES ('https://github.com/a/b/issues/3', 'a/b', 1.0, 0)"
            )
        )
    db.close()

    db = Database(store_url, migrate=True)
    assert db.revision() == head_revision()
    stored = {i.number: i for i in load_issues(db)}
    assert stored[1].updated_at is None and stored[1].created_at.year == 2020
    assert stored[2].updated_at.month == 10 and stored[3].updated_at == stored[3].created_at
    assert all((i.unanswered_comments, i.unanswered_since) == (0, None) for i in stored.values())
    db.close()


def test_0006_downgrades_to_the_old_columns_and_the_old_fill(db):
    from matcher.models import Issue
    from matcher.store.issues import upsert_issues

    upsert_issues(
        db, [Issue(url="https://github.com/a/b/issues/1", repo="a/b", number=1, title="t")]
    )
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE issues SET created_at = '2020-02-12 00:00:00'")
        command.downgrade(alembic_config(connection), "0005")
    columns = {c["name"] for c in sa_inspect(db.engine).get_columns("issues")}
    assert "unanswered_comments" not in columns and "unanswered_since" not in columns
    with db.engine.connect() as connection:
        created, updated = connection.execute(
            text("SELECT created_at, updated_at FROM issues")
        ).one()
    assert updated == created  # what the snapshot reader used to fill in


def test_0007_gives_every_learner_of_a_store_at_0005_the_auto_pace(store_url):
    db = _store_at(store_url, "0005")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO learners (learner_id, skills, niche, languages, digest_enabled,"
                " digest_weekday, digest_hour, timezone, updated_at) VALUES ('1', 'python', 'nlp',"
                " '', false, 2, 18, 'Europe/Berlin', '2026-11-30 12:00:00')"
            )
        )
    columns = {c["name"] for c in sa_inspect(db.engine).get_columns("learners")}
    assert "pace" not in columns
    db.close()

    db = Database(store_url, migrate=True)
    assert db.revision() == head_revision()
    learner = get_learner(db, "1")
    assert learner is not None and learner.pace == "auto"
    assert (learner.skills, learner.digest_weekday, learner.timezone) == (
        "python",
        2,
        "Europe/Berlin",
    )
    upsert_learner(db, "1", {"pace": "easier"}, now=datetime(2026, 12, 2, tzinfo=UTC))
    assert get_learner(db, "1").pace == "easier"
    db.close()


def test_the_revisions_read_from_the_version_files_are_alembics():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    assert head_revision() == script.get_current_head()
    assert migrations.known_revisions() == {rev.revision for rev in script.walk_revisions()}


def test_opening_a_store_at_head_does_not_load_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    Database(url).close()  # migrates: Alembic runs here
    opened = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from matcher.store import Database; db = Database(sys.argv[1]); "
            "print(db.revision(), 'alembic' in sys.modules); db.close()",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert opened.stdout.split() == [head_revision(), "False"]


def test_the_revision_of_an_empty_store_is_none(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'store.sqlite'}", check=False)
    assert db.revision() is None
    db.close()
