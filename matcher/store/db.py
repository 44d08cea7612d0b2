"""The database handle: one SQLAlchemy engine, sessions, and table creation."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import DateTime, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from matcher.errors import StoreError

log = logging.getLogger(__name__)


class Base(DeclarativeBase):
    """Every table of the store registers here."""


class UTCDateTime(TypeDecorator):
    """A point in time, stored as UTC and always read back zone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None and value.tzinfo is not None else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return as_utc(value)


def as_utc(value: datetime | None) -> datetime | None:
    """The same instant in UTC; a time without a zone is taken to be UTC already."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Database:
    """A store at a SQLAlchemy URL (SQLite by default); tables are created on open."""

    def __init__(self, url: str):
        self.url = url
        path = sqlite_path(url)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the directory {path.parent} for the store "
                    f"({exc.strerror or exc}); "
                    "choose another place with --db or MATCHER_DATABASE_URL"
                ) from None
        try:
            self.engine = create_engine(url, future=True)
            if url.startswith("sqlite"):
                event.listen(self.engine, "connect", _sqlite_pragmas)
            import matcher.store  # noqa: F401  (registers every table on Base)

            Base.metadata.create_all(self.engine)
            _add_missing_columns(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store at {_safe(url)}: {_reason(exc)}") from None
        except ImportError as exc:  # the URL names a database driver that is not installed
            raise StoreError(
                f"cannot open the store at {_safe(url)}: its driver is not installed "
                f"(no module named {exc.name or exc})"
            ) from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back whole on any error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except OperationalError as exc:
                # read-only file, full disk, lost server: one line for the user, nothing half
                # written
                session.rollback()
                raise StoreError(
                    f"cannot use the store at {_safe(self.url)}: {_reason(exc)}"
                ) from None
            except Exception:
                session.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()


def _add_missing_columns(engine) -> None:
    """Bring a store made by an older version up to date: add the columns newer tables declare.

    create_all makes missing tables but never changes existing ones. Added columns are nullable
    (existing rows hold NULL there), and nothing stored is touched.
    """
    existing = inspect(engine)
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            if not existing.has_table(table.name):
                continue
            present = {column["name"] for column in existing.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                kind = column.type.compile(dialect=engine.dialect)
                connection.execute(
                    text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}')
                )
                log.info("store upgraded: added column %s.%s", table.name, column.name)


def insert_ignoring_duplicates(session: Session, table, rows: list[dict], keys: list[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO NOTHING: a row another writer stored first is kept as it is.

    Check-then-insert races between processes; this statement cannot (SQLite and PostgreSQL).
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # pragma: no cover - the store supports SQLite and PostgreSQL
        raise StoreError(f"the store does not support the {dialect} database")
    statement = insert(table).values(rows).on_conflict_do_nothing(index_elements=keys)
    session.execute(statement)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def sqlite_path(url: str) -> Path | None:
    """The file of a plain SQLite URL (None for memory, URI-style and other databases)."""
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return None
    rest = url.removeprefix("sqlite:///")
    if rest.startswith("file:") or not rest:  # sqlite:///file:...?mode=ro&uri=true
        return None
    return Path(rest.split("?", 1)[0])


def _reason(exc: SQLAlchemyError) -> str:
    """The database's own words (e.g. 'attempt to write a readonly database'), on one line."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else ""
    return " ".join(text.split())[:200] or exc.__class__.__name__


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


# --- read-only opening (issue 12): reading works on a read-only mount or a full disk ---------
def open_read_only(url: str) -> Database:
    """The store at `url` for reading only; nothing is created, upgraded or written.

    A SQLite file opens with mode=ro, or immutable=1 where SQLite cannot even make its shared
    memory file (a read-only mount, a full disk). Other databases open as usual.
    """
    path = sqlite_path(url)
    if path is None:
        return Database(url)
    if not path.is_file():
        raise StoreError(f"no store at {path}: nothing has been stored there yet")
    wal = path.with_name(path.name + "-wal")
    # immutable=1 would not see changes still in the write-ahead log: only use it without one
    tries = (
        ("mode=ro",) if wal.exists() and wal.stat().st_size else ("mode=ro", "mode=ro&immutable=1")
    )
    db = object.__new__(Database)
    db.url = url
    reason = ""
    for options in tries:
        uri = f"file:{quote(str(path.resolve()))}?{options}"
        db.engine = create_engine(
            "sqlite://", creator=lambda uri=uri: sqlite3.connect(uri, uri=True), future=True
        )
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT count(*) FROM sqlite_master"))
            break
        except SQLAlchemyError as exc:
            db.engine.dispose()
            reason = _reason(exc)
    else:
        raise StoreError(f"cannot read the store at {path}: {reason}")
    db._sessions = sessionmaker(db.engine, expire_on_commit=False)
    return db
