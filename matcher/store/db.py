"""The database handle: one SQLAlchemy engine, sessions, and the schema revision check."""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import DateTime, any_, bindparam, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from matcher.errors import StoreError
from matcher.redact import remember_secret, url_password
from matcher.store import migrations

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
    """A store at a SQLAlchemy URL (SQLite by default), at the schema revision this code needs.

    Opening a SQLite store migrates it (a one-user file: nobody else to ask). A PostgreSQL store
    is migrated only by `python -m matcher db upgrade`, which its operator runs on purpose;
    opening one that is behind stops with one line saying so. `migrate=True` always migrates,
    `migrate=False` never does; `check=False` opens a store at any revision (for `db current`).
    """

    def __init__(self, url: str, *, migrate: bool | None = None, check: bool = True):
        url = store_url(url)
        self.url = url
        remember_secret(url_password(url))  # a driver's error may quote it
        self._on_close: list[Callable[[], None]] = []
        self._local = threading.local()
        self.sqlite_file = sqlite_path(url)
        if self.sqlite_file is not None:
            try:
                self.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the directory {self.sqlite_file.parent} for the store "
                    f"({exc.strerror or exc}); "
                    "choose another place with --db or MATCHER_DATABASE_URL"
                ) from None
        try:
            # pre-ping: after a database restart, a pooled connection that died is replaced
            # before a command uses it, instead of failing that command
            self.engine = create_engine(_with_password_file(url), pool_pre_ping=True)
            if url.startswith("sqlite"):
                event.listen(self.engine, "connect", _sqlite_pragmas)
            import matcher.store  # noqa: F401  (registers every table on Base)

            if check:
                self._bring_to_head(
                    self.engine.dialect.name == "sqlite" if migrate is None else migrate
                )
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open the store at {safe_url(url)}: {db_error_reason(exc)}"
            ) from None
        except ImportError as exc:  # the URL names a database driver that is not installed
            raise StoreError(missing_driver(url, exc)) from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def revision(self) -> str | None:
        """The schema revision the store records (None: empty, or made before migrations)."""
        try:
            with self.engine.connect() as connection:
                return migrations.current_revision(connection)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open the store at {safe_url(self.url)}: {db_error_reason(exc)}"
            ) from None

    def upgrade(self) -> tuple[str | None, str]:
        """Migrate to the newest revision under the migration lock; (before, after)."""
        self._refuse_newer(self.revision())
        try:
            return migrations.upgrade(self.engine, self.sqlite_file)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot migrate the store at {safe_url(self.url)}: {db_error_reason(exc)}"
            ) from None

    def _bring_to_head(self, migrate: bool) -> None:
        current, head = self.revision(), migrations.head_revision()
        if current == head:
            return
        self._refuse_newer(current)
        if not migrate:
            raise StoreError(
                f"the store at {safe_url(self.url)} is at schema revision {current or 'none'}, "
                f"this version needs {head}: run `python -m matcher db upgrade`"
            )
        self.upgrade()

    def _refuse_newer(self, current: str | None) -> None:
        if current is not None and current not in migrations.known_revisions():
            raise StoreError(
                f"the store at {safe_url(self.url)} is at schema revision {current}, newer than "
                f"this version of the matcher knows (it needs {migrations.head_revision()}): "
                "upgrade the matcher"
            )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run every store call of the block (in this thread) in one transaction: one commit
        at the end, nothing written if the block fails. Nested blocks join the outer one."""
        if getattr(self._local, "session", None) is not None:
            yield
            return
        with self.session() as session:
            self._local.session = session
            try:
                yield
            finally:
                self._local.session = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back whole on any error
        (inside `transaction()`, the block's one transaction)."""
        outer = getattr(self._local, "session", None)
        if outer is not None:
            yield outer
            return
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except OperationalError as exc:
                # read-only file, full disk, lost server: one line for the user, nothing half
                # written
                session.rollback()
                raise StoreError(
                    f"cannot use the store at {safe_url(self.url)}: {db_error_reason(exc)}"
                ) from None
            except Exception:
                session.rollback()
                raise

    def on_close(self, callback: Callable[[], None]) -> None:
        """Run `callback` when this handle closes (e.g. stop renewing its leases, release them)."""
        self._on_close.append(callback)

    def close(self) -> None:
        while getattr(self, "_on_close", None):
            self._on_close.pop()()
        self.engine.dispose()


def insert_ignoring_duplicates(session: Session, table, rows: list[dict], keys: list[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO NOTHING: a row another writer stored first is kept as it is.

    Check-then-insert races between processes; this statement cannot (SQLite and PostgreSQL).
    """
    if rows:
        session.execute(
            sql_insert(session, table).values(rows).on_conflict_do_nothing(index_elements=keys)
        )


def upsert(session: Session, table, rows: list[dict], keys: list[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE: the last writer's values win, no writer fails."""
    if not rows:
        return
    statement = sql_insert(session, table).values(rows)
    changed = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    session.execute(statement.on_conflict_do_update(index_elements=keys, set_=changed))


def one_of(session: Session, column, values: list):
    """`column IN values`: on PostgreSQL one array parameter (= ANY), so a list of thousands
    costs no statement of thousands of placeholders to build and parse; IN (...) elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


SCAN_ABOVE = 20_000  # keys asked for at once: above, one pass over the query's rows


def rows_with_keys(session: Session, query, key, wanted: Collection[Any]) -> Iterator[Any]:
    """The rows of `query` (plain rows whose first column is `key`) for the `wanted` keys the
    store has: asked 500 at a time, or, for more than SCAN_ABOVE keys (most of a table, as
    building the ranking index asks), in one pass over the query's rows, kept here."""
    if len(wanted) > SCAN_ABOVE:
        yield from (row for row in session.execute(query) if row[0] in wanted)
        return
    listed = list(wanted)
    for start in range(0, len(listed), 500):
        yield from session.execute(query.where(key.in_(listed[start : start + 500])))


def batch_size(db: Database) -> int:
    """How many values one statement of a batch read takes (SQLite caps its parameters)."""
    return 20_000 if db.engine.dialect.name == "postgresql" else 1000


def sql_insert(session: Session, table):
    """The dialect's INSERT for `table` (a model or a Table), which has ON CONFLICT clauses."""
    table = getattr(table, "__table__", table)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # pragma: no cover - the store supports SQLite and PostgreSQL
        raise StoreError(f"the store does not support the {dialect} database")
    return insert(table)


def _with_password_file(url: str) -> str:
    """The URL with the password from MATCHER_DATABASE_PASSWORD_FILE (a compose or k8s secret)
    when the URL itself has none; `self.url` keeps the URL without it for messages."""
    path = os.environ.get("MATCHER_DATABASE_PASSWORD_FILE")
    if not path or url.startswith("sqlite"):
        return url
    parsed = make_url(url)
    if parsed.password:
        return url
    try:
        password = Path(path).read_text().strip()
    except OSError as exc:
        raise StoreError(
            f"cannot read MATCHER_DATABASE_PASSWORD_FILE {path}: {exc.strerror or exc}"
        ) from None
    return parsed.set(password=password).render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# --- URLs: what --db and MATCHER_DATABASE_URL may say (issue 21) -----------------------------
URL_FORMS = "use a file path, sqlite:///PATH or postgresql://USER@HOST/DB"
POSTGRES_EXTRA = "pip install 'ml-first-issues[postgres]'"


def store_url(text: str) -> str:
    """The SQLAlchemy URL of a store given as a file path or a URL.

    A file path becomes sqlite:///ABSOLUTE-PATH. `postgres://` (Heroku's and libpq's spelling) and
    a `postgresql://` that names no driver use psycopg, the driver the [postgres] extra installs
    (SQLAlchemy would otherwise look for psycopg2). Raises StoreError for anything else that is
    not a URL of SQLite or PostgreSQL.
    """
    text = text.strip()
    if not text:
        raise StoreError(f"the store's URL is empty: {URL_FORMS}")
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    scheme, rest = text.split("://", 1)
    base, _, driver = scheme.partition("+")
    if base.lower() in ("postgres", "postgresql"):
        text = f"postgresql+{driver or 'psycopg'}://{rest}"
    _check_dialect(text)
    return text


def _check_dialect(url: str) -> None:
    scheme = url.split("://", 1)[0]
    try:
        name = make_url(url).get_dialect().name
    except NoSuchModuleError:
        raise StoreError(
            f"unknown database scheme '{scheme}' in --db or MATCHER_DATABASE_URL: {URL_FORMS}"
        ) from None
    except ArgumentError:
        raise StoreError(
            f"--db or MATCHER_DATABASE_URL is not a database URL: {URL_FORMS}"
        ) from None
    except ImportError as exc:  # a dialect whose module imports its driver at once
        raise StoreError(missing_driver(url, exc)) from None
    if name not in ("sqlite", "postgresql"):
        raise StoreError(
            f"the store is SQLite or PostgreSQL, not {name} ('{scheme}' in --db or "
            f"MATCHER_DATABASE_URL): {URL_FORMS}"
        )


def missing_driver(url: str, exc: ImportError) -> str:
    """One line naming the driver a URL needs and the command that installs it here."""
    module = exc.name or str(exc)
    where = f"cannot open the store at {safe_url(url)}: its driver {module} is not installed"
    if not url.startswith("postgresql"):
        return where
    if url.startswith("postgresql+psycopg://"):
        return f"{where}: {sys.executable} -m {POSTGRES_EXTRA}"
    return (
        f"{where}: write postgresql://USER@HOST/DB to use psycopg, which "
        f"`{sys.executable} -m {POSTGRES_EXTRA}` installs"
    )


def sqlite_path(url: str) -> Path | None:
    """The file of a plain SQLite URL (None for memory, URI-style and other databases)."""
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return None
    rest = url.removeprefix("sqlite:///")
    if rest.startswith("file:") or not rest:  # sqlite:///file:...?mode=ro&uri=true
        return None
    return Path(rest.split("?", 1)[0])


def db_error_reason(exc: SQLAlchemyError) -> str:
    """The database's own words (e.g. 'attempt to write a readonly database'), on one line."""
    orig = getattr(exc, "orig", None)
    words = str(orig) if orig is not None else ""
    return " ".join(words.split())[:200] or exc.__class__.__name__


def safe_url(url: str) -> str:
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
    url = store_url(url)
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
    db._on_close = []
    db._local = threading.local()
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
            reason = db_error_reason(exc)
    else:
        raise StoreError(f"cannot read the store at {path}: {reason}")
    db._sessions = sessionmaker(db.engine, expire_on_commit=False)
    return db
