import sqlite3

from matcher.store import Database
from matcher.store.issues import load_issues


def test_an_older_store_gets_new_columns_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    Database(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as raw:  # what an older version left: no 'niches' or 'topics' yet
        raw.execute("ALTER TABLE issues DROP COLUMN niches")
        raw.execute("ALTER TABLE issues DROP COLUMN topics")
        raw.execute("DROP TABLE alembic_version")  # made before migrations existed
        raw.execute("DROP TABLE sync_locks")
        raw.execute(
            "INSERT INTO issues (url, repo, number, title, body, labels, state, comments,"
            " assignees, linked_prs, claimed, text_hash, stored_at)"
            " VALUES ('https://github.com/a/b/issues/1', 'a/b', 1, 'Old issue', '', '[]', 'open',"
            " 0, '[]', '[]', 0, 'h', '2026-01-01 00:00:00')"
        )
    db = Database(f"sqlite:///{path}")
    issues = load_issues(db)
    assert [i.title for i in issues] == ["Old issue"]
    assert issues[0].niches == () and issues[0].topics == ()
    with sqlite3.connect(path) as raw:
        columns = {row[1] for row in raw.execute("PRAGMA table_info(issues)")}
    assert {"niches", "topics"} <= columns
