"""Fresh stores for tests: SQLite under tmp_path, or a throwaway PostgreSQL database.

With MATCHER_TEST_DATABASE_URL=postgresql+psycopg://user@host:port/db set, each fresh store is a
database of its own (matcher_t_<random>) on that server, created from the URL's database and
dropped when the test ends (or, for stores made outside a fixture, when the session ends).
Without it, every store is SQLite, as before.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

TEST_DATABASE_URL = os.environ.get("MATCHER_TEST_DATABASE_URL", "")
_created: list[str] = []


def on_postgres() -> bool:
    return TEST_DATABASE_URL.startswith("postgresql")


def fresh_store_url(sqlite_file: Path) -> str:
    """The URL of a new empty store: `sqlite_file`, or a new PostgreSQL database."""
    if not on_postgres():
        return f"sqlite:///{sqlite_file}"
    name = f"matcher_t_{uuid.uuid4().hex[:16]}"
    _admin(f'CREATE DATABASE "{name}"')
    _created.append(name)
    return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)


def drop_store(url: str) -> None:
    """Drop a database made by fresh_store_url (nothing to do for SQLite: tmp_path goes)."""
    name = make_url(url).database
    if on_postgres() and name in _created:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _created.remove(name)


def drop_all() -> None:
    for name in list(_created):
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _created.remove(name)


def _admin(statement: str) -> None:
    engine = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()
