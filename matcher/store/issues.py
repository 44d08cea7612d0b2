"""Issues and their embeddings, keyed by a hash of the embedded text."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    Integer,
    LargeBinary,
    String,
    Text,
    delete,
    func,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME
from sqlalchemy.orm import Mapped, Session, mapped_column

from matcher.models import Issue, Welcome, text_hash
from matcher.store.db import (
    Base,
    Database,
    UTCDateTime,
    as_utc,
    insert_ignoring_duplicates,
    rows_with_keys,
)


class IssueRow(Base):
    __tablename__ = "issues"

    url: Mapped[str] = mapped_column(String, primary_key=True)
    repo: Mapped[str] = mapped_column(String, index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String, default="open", index=True)
    language: Mapped[str | None] = mapped_column(String, nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    assignees: Mapped[list] = mapped_column(JSON, default=list)
    linked_prs: Mapped[list] = mapped_column(JSON, default=list)
    claimed: Mapped[bool] = mapped_column(Boolean, default=False)
    stars: Mapped[int | None] = mapped_column(Integer, nullable=True)
    topics: Mapped[list] = mapped_column(JSON, default=list)
    niches: Mapped[list] = mapped_column(JSON, default=list)
    text_hash: Mapped[str] = mapped_column(String(64))
    unanswered_comments: Mapped[int] = mapped_column(Integer, default=0)  # revision 0006
    unanswered_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)  # revision 0010
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # revision 0008: the change mark, taken from issue_changes by a trigger on every write
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True, default=0, server_default="0")


class IssueChangeRow(Base):
    """One row (id 1): the last change_seq handed to an issue write (revision 0008's trigger)."""

    __tablename__ = "issue_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


class RepoWelcomeRow(Base):
    """The welcoming figures of one repository (matcher.github.welcome), refreshed weekly."""

    __tablename__ = "repo_welcome"

    repo: Mapped[str] = mapped_column(String, primary_key=True)  # lower case
    newcomer_prs: Mapped[int] = mapped_column(Integer, default=0)
    newcomer_merged: Mapped[int] = mapped_column(Integer, default=0)
    median_merge_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    window_days: Mapped[int] = mapped_column(Integer, default=182)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cost: Mapped[int] = mapped_column(Integer, default=0)  # GraphQL points the query took
    median_reply_days: Mapped[float | None] = mapped_column(Float, nullable=True)


class EmbeddingRow(Base):
    __tablename__ = "embeddings"

    model: Mapped[str] = mapped_column(String, primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


@dataclass
class UpsertCounts:
    added: int = 0
    changed: int = 0
    unchanged: int = 0


_FIELDS = (
    "repo",
    "number",
    "title",
    "body",
    "state",
    "language",
    "created_at",
    "updated_at",
    "comments",
    "claimed",
    "stars",
    "unanswered_comments",
    "unanswered_since",
    "demo",
)
_LIST_FIELDS = ("labels", "assignees", "linked_prs", "topics", "niches")


def _row_values(issue: Issue) -> dict:
    values = {name: getattr(issue, name) for name in _FIELDS}
    for name in ("created_at", "updated_at", "unanswered_since"):
        values[name] = as_utc(getattr(issue, name))
    values.update({name: list(getattr(issue, name)) for name in _LIST_FIELDS})
    values["text_hash"] = text_hash(issue.embedding_text())
    return values


def _to_issue(row: Any) -> Issue:
    fields: dict[str, Any] = {name: getattr(row, name) for name in _FIELDS}
    fields.update({name: tuple(getattr(row, name) or ()) for name in _LIST_FIELDS})
    return Issue(url=row.url, **fields)


def upsert_issues(db: Database, issues: Iterable[Issue]) -> UpsertCounts:
    """Insert new issues, update changed ones, in one transaction."""
    counts = UpsertCounts()
    now = datetime.now(UTC)
    issues = list(issues)
    with db.session() as session:
        # one SELECT per 500 issues, not one per issue
        urls = list({issue.url for issue in issues})
        rows: dict[str, IssueRow] = {}
        for start in range(0, len(urls), 500):
            chunk = urls[start : start + 500]
            rows.update(
                (row.url, row)
                for row in session.scalars(select(IssueRow).where(IssueRow.url.in_(chunk)))
            )
        new: dict[str, dict] = {}  # url -> the row to insert
        for issue in issues:
            values = {"url": issue.url, **_row_values(issue)}
            if issue.url in rows:
                changed = _update(rows[issue.url], values, now)
            elif issue.url in new:
                changed = new[issue.url] != {**values, "stored_at": now}
                new[issue.url] = {**values, "stored_at": now}
            else:
                new[issue.url] = {**values, "stored_at": now}
                counts.added += 1
                continue
            counts.changed += changed
            counts.unchanged += not changed
        # another writer may store the same new issue meanwhile: its row stands, nobody fails
        fresh = list(new.values())
        for start in range(0, len(fresh), 500):
            insert_ignoring_duplicates(session, IssueRow, fresh[start : start + 500], ["url"])
    return counts


def _update(row: IssueRow, values: dict, now: datetime) -> bool:
    """Copy changed values onto a stored row; True when something changed."""
    if all(getattr(row, k) == v for k, v in values.items()):
        return False
    for key, value in values.items():
        setattr(row, key, value)
    row.stored_at = now
    return True


def load_issues(
    db: Database, *, open_only: bool = True, repos: Iterable[str] | None = None
) -> list[Issue]:
    """Stored issues in order (repo, number); `repos` match whatever their case, as on GitHub."""
    query = select(IssueRow).order_by(IssueRow.repo, IssueRow.number)
    if open_only:
        query = query.where(IssueRow.state == "open")
    if repos is not None:
        query = query.where(func.lower(IssueRow.repo).in_({r.lower() for r in repos}))
    with db.session() as session:
        return _with_welcome(session, [_to_issue(row) for row in session.scalars(query)])


def count_issues(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(IssueRow)) or 0


def count_demo_issues(db: Database) -> int:
    """How many stored issues are invented demo data (imported from the bundled snapshot)."""
    with db.session() as session:
        query = select(func.count()).select_from(IssueRow).where(IssueRow.demo.is_(True))
        return session.scalar(query) or 0


def get_embeddings(db: Database, model: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
    """The cached vectors of `model` for the given text hashes (missing ones are absent).

    The vectors are rows of one float32 array (not an array each); asked for most of a store
    (building the ranking index), the model's vectors are read in one pass.
    """
    wanted = set(hashes)
    keys: list[str] = []
    matrix: np.ndarray | None = None
    with db.session() as session:
        for key, vector in _stored_vectors(session, model, wanted):
            data = np.frombuffer(vector, dtype=np.float32)
            if matrix is None:
                matrix = np.empty((len(wanted), len(data)), dtype=np.float32)
            if len(data) != matrix.shape[1]:  # another dimension (never within one model)
                return _one_by_one(db, model, wanted)
            matrix[len(keys)] = data
            keys.append(key)
    if matrix is None:
        return {}
    matrix = matrix[: len(keys)]
    matrix.flags.writeable = False  # as np.frombuffer's: a cached vector is never changed
    return dict(zip(keys, matrix, strict=True))


def embedding_rows(
    db: Database, model: str, hashes: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """The cached vectors of `model` row-aligned with `hashes`: a (rows, dim) float32 matrix,
    zeros where none is stored (no columns when none is), and which rows have one. Building the
    ranking index reads its vectors here straight into its own matrix (no second copy)."""
    rows_of: dict[str, list[int]] = {}
    for row, key in enumerate(hashes):
        rows_of.setdefault(key, []).append(row)
    matrix = np.zeros((len(hashes), 0), dtype=np.float32)
    found = np.zeros(len(hashes), dtype=bool)
    width = -1  # bytes of a vector
    blobs: list[bytes] = []
    targets: list[int] = []

    def flush() -> None:  # a few thousand vectors at once: one buffer, one scatter
        rows = np.asarray(targets, dtype=np.int64)
        matrix[rows] = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(rows), -1)
        found[rows] = True
        blobs.clear()
        targets.clear()

    with db.session() as session:
        for key, vector in _stored_vectors(session, model, rows_of.keys()):
            if width < 0:
                width = len(vector)
                matrix = np.zeros((len(hashes), width // 4), dtype=np.float32)
            if len(vector) != width:  # another dimension (never within one model): none
                continue
            for row in rows_of[key]:
                blobs.append(vector)
                targets.append(row)
            if len(targets) >= 4096:
                flush()
    if targets:
        flush()
    return matrix, found


def _stored_vectors(session: Session, model: str, wanted: Collection[str]) -> Iterator[Any]:
    """(text hash, vector bytes) of `model` for the wanted hashes that the store has."""
    table = EmbeddingRow.__table__  # plain rows: no ORM bookkeeping per row
    model_rows = select(table.c.text_hash, table.c.vector).where(table.c.model == model)
    return rows_with_keys(session, model_rows, table.c.text_hash, wanted)


def _one_by_one(db: Database, model: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
    wanted = list(set(hashes))
    found: dict[str, np.ndarray] = {}
    with db.session() as session:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query = select(EmbeddingRow.text_hash, EmbeddingRow.vector).where(
                EmbeddingRow.model == model, EmbeddingRow.text_hash.in_(chunk)
            )
            for key, vector in session.execute(query):
                found[key] = np.frombuffer(vector, dtype=np.float32)
    return found


def put_embeddings(db: Database, model: str, vectors: dict[str, np.ndarray]) -> None:
    """Store vectors of `model` by text hash; an existing hash is left as it is.

    Idempotent and safe to race: two processes embedding the same new texts both succeed.
    """
    rows = [
        {"model": model, "text_hash": key, "dim": data.size, "vector": data.tobytes()}
        for key, data in ((k, np.asarray(v, dtype=np.float32)) for k, v in vectors.items())
    ]
    with db.session() as session:
        for start in range(0, len(rows), 500):
            insert_ignoring_duplicates(
                session, EmbeddingRow, rows[start : start + 500], ["model", "text_hash"]
            )


def prune_embeddings(db: Database) -> int:
    """Delete the cached vectors (of any model) of texts no stored issue has any more, open or
    closed (an edited text's old vector); return how many. One statement: a vector stored while
    it runs is kept."""
    unused = EmbeddingRow.text_hash.not_in(select(IssueRow.text_hash))
    with db.session() as session:
        result = session.execute(delete(EmbeddingRow).where(unused))
        return result.rowcount or 0  # type: ignore[attr-defined]


def issue_texts(db: Database) -> Iterator[tuple[str, str]]:
    """(title, body) of every stored issue, open or closed, streamed."""
    with db.session() as session:
        rows = session.execute(
            select(IssueRow.title, IssueRow.body).execution_options(yield_per=5000)
        )
        yield from ((title, body) for title, body in rows)


def issues_by_url(db: Database, urls: Iterable[str]) -> list[Issue]:
    """Stored issues with these URLs, open or not (unknown URLs are left out)."""
    wanted = list(set(urls))
    with db.session() as session:
        rows = (
            session.scalars(select(IssueRow).where(IssueRow.url.in_(wanted))).all()
            if wanted
            else []
        )
        return _with_welcome(session, [_to_issue(row) for row in rows])


def change_mark(db: Database) -> int:
    """The issues' change mark: the counter every issue write advances, in its own transaction
    (revision 0008), so a reader that sees N can read every row written up to N. One row read."""
    with db.session() as session:
        return int(session.scalar(select(IssueChangeRow.seq).where(IssueChangeRow.id == 1)) or 0)


def issues_changed_since(
    db: Database, mark: int, *, open_only: bool = False
) -> tuple[list[tuple[Issue, str]], int]:
    """(issue, text hash) of the issues written after change mark `mark` (all for 0), and the
    mark they bring the reader to.

    Building the ranking index reads every open issue here, so rows come as the driver gives
    them, as plain tuples: JSON lists and times are decoded by _Decoder (a label set is decoded
    once), not per value by SQLAlchemy's types.
    """
    table = IssueRow.__table__
    raw = {*_LIST_FIELDS, *_TIME_FIELDS}
    columns = [
        type_coerce(table.c[name], Text).label(name) if name in raw else table.c[name]
        for name in _READ_ORDER
    ]
    query = select(*columns).where(table.c.change_seq > mark)  # plain rows: no ORM bookkeeping
    if open_only:
        query = query.where(table.c.state == "open")
    with db.session() as session:
        rows = session.execute(query).all()
        decode = _Decoder(_welcome_of(session, {row.repo.lower() for row in rows}))
        found = [(decode.issue(row), row.text_hash) for row in rows]
        reached = max((row.change_seq for row in rows), default=mark)
    return found, reached


def count_open_issues(db: Database, upto: int) -> int:
    """How many open issues were written up to change mark `upto` (sizes a build's buffers)."""
    table = IssueRow.__table__
    query = select(func.count()).where(table.c.state == "open", table.c.change_seq <= upto)
    with db.session() as session:
        return int(session.scalar(query) or 0)


def open_issue_pages(db: Database, upto: int, size: int) -> Iterator[list[tuple[Issue, str]]]:
    """(issue, text hash) of every open issue written up to change mark `upto` (change_mark's
    value: every such row is committed), `size` at a time in change order, each page one short
    read of its own: building the ranking index never holds every row, or an open cursor across
    other reads and writes. A row written after `upto` is left to the next refresh (its mark is
    higher, whether it is new or an older row written again meanwhile)."""
    table = IssueRow.__table__
    raw = {*_LIST_FIELDS, *_TIME_FIELDS}
    columns = [
        type_coerce(table.c[name], Text).label(name) if name in raw else table.c[name]
        for name in _READ_ORDER
    ]
    seq, url = table.c.change_seq, table.c.url
    # the state is tested as an expression, so the planner walks the change_seq index in order
    # (by the state index, SQLite sorted every remaining row, bodies and all, for each page);
    # rows migrated at revision 0008 share one change_seq: the URL orders them
    query = (
        select(*columns)
        .where(func.coalesce(table.c.state, "") == "open", seq <= upto)
        .order_by(seq, url)
        .limit(size)
    )
    decode = _Decoder({})
    asked: set[str] = set()  # repositories whose welcoming figures were looked up
    after: tuple[int, str] | None = None
    while True:
        page = query
        if after is not None:
            page = query.where(seq >= after[0], (seq > after[0]) | (url > after[1]))
        with db.session() as session:
            rows = session.execute(page).all()
            repos = {row.repo.lower() for row in rows} - asked
            decode.welcome.update(_welcome_of(session, repos))
            asked |= repos
        if not rows:
            return
        yield [(decode.issue(row), row.text_hash) for row in rows]
        after = (rows[-1].change_seq, rows[-1].url)


_TIME_FIELDS = ("created_at", "updated_at", "unanswered_since")
# the columns issues_changed_since reads, in the order _Decoder.issue unpacks them
_READ_ORDER = (
    *("url", "repo", "number", "title", "body", "labels", "state", "language", "created_at"),
    *("updated_at", "comments", "assignees", "linked_prs", "claimed", "stars", "topics"),
    *("niches", "unanswered_comments", "unanswered_since", "demo", "text_hash", "change_seq"),
)


class _Decoder:
    """Issue rows read with their JSON lists and times undecoded (SQLite: text; PostgreSQL: the
    driver's lists and datetimes), decoded as IssueRow's types would decode them."""

    def __init__(self, welcome: dict[str, Welcome]) -> None:
        self.welcome = welcome  # by repository, lower case
        self.lists: dict[str, tuple[str, ...]] = {"[]": ()}
        self.names: dict[str, str] = {}  # one string per repository, language, state
        self.repos: dict[str, tuple[str, Welcome | None]] = {}  # name -> (name, its figures)
        parse = SQLITE_DATETIME().result_processor(None, None)  # type: ignore[arg-type]
        assert parse is not None
        self.parse_time = parse

    def items(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, str):
            return tuple(value or ())
        found = self.lists.get(value)
        if found is None:
            found = self.lists[value] = tuple(json.loads(value) or ())
        return found

    def name(self, value: str | None) -> Any:
        return value if value is None else self.names.setdefault(value, value)

    def repo(self, value: str) -> tuple[str, Welcome | None]:
        """One string per repository, and its welcoming figures (looked up once)."""
        found = self.repos.get(value)
        if found is None:
            found = self.repos[value] = (value, self.welcome.get(value.lower()))
        return found

    def time(self, value: Any) -> datetime | None:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:  # not ISO 8601: SQLAlchemy's own parser
                value = self.parse_time(value)
            if value.tzinfo is None:  # as_utc, without a call per value
                return value.replace(tzinfo=UTC)
        return as_utc(value)

    def issue(self, row: Sequence[Any]) -> Issue:
        """The Issue of one row read in _READ_ORDER (unpacked at once: no lookup per column)."""
        (url, repo, number, title, body, labels, state, language, created_at, updated_at) = row[:10]
        (comments, assignees, linked_prs, claimed, stars, topics, niches) = row[10:17]
        (unanswered_comments, unanswered_since, demo) = row[17:20]
        repo, welcome = self.repo(repo)
        return Issue(
            url=url,
            repo=repo,
            number=number,
            title=title,
            body=body,
            labels=self.items(labels),
            state=self.name(state),
            language=self.name(language),
            created_at=self.time(created_at),
            updated_at=self.time(updated_at),
            comments=comments,
            assignees=self.items(assignees),
            linked_prs=self.items(linked_prs),
            claimed=claimed,
            stars=stars,
            topics=self.items(topics),
            niches=self.items(niches),
            welcome=welcome,
            unanswered_comments=unanswered_comments,
            unanswered_since=self.time(unanswered_since),
            demo=demo,
        )


def _welcome_of(session: Session, repos: set[str]) -> dict[str, Welcome]:
    """The welcoming figures of these repositories (lower case) that the store has."""
    if len(repos) > 500:  # one read of the whole (one row per repository) table
        return {row.repo: _welcome(row) for row in session.scalars(select(RepoWelcomeRow))}
    query = select(RepoWelcomeRow).where(RepoWelcomeRow.repo.in_(list(repos)))
    return {row.repo: _welcome(row) for row in session.scalars(query)} if repos else {}


def _welcome(row: RepoWelcomeRow) -> Welcome:
    return Welcome(
        newcomer_prs=row.newcomer_prs,
        newcomer_merged=row.newcomer_merged,
        median_merge_days=row.median_merge_days,
        last_merged_at=as_utc(row.last_merged_at),
        fetched_at=as_utc(row.fetched_at),
        window_days=row.window_days,
        median_reply_days=row.median_reply_days,
    )


def _with_welcome(session: Session, issues: list[Issue]) -> list[Issue]:
    """The issues with their repository's welcoming figures, where the store has them."""
    known = _welcome_of(session, {issue.repo.lower() for issue in issues})
    if not known:
        return issues
    return [
        replace(issue, welcome=known[issue.repo.lower()]) if issue.repo.lower() in known else issue
        for issue in issues
    ]


def load_welcome(db: Database) -> dict[str, tuple[Welcome, int]]:
    """Welcoming figures and their cost in points by repository (lower case)."""
    with db.session() as session:
        return {
            row.repo: (_welcome(row), row.cost) for row in session.scalars(select(RepoWelcomeRow))
        }


def save_welcome(db: Database, repo: str, welcome: Welcome, cost: int) -> None:
    """Store a repository's figures and advance its issues' change mark (the index rereads them)."""
    values = {
        "newcomer_prs": welcome.newcomer_prs,
        "newcomer_merged": welcome.newcomer_merged,
        "median_merge_days": welcome.median_merge_days,
        "last_merged_at": as_utc(welcome.last_merged_at),
        "window_days": welcome.window_days,
        "fetched_at": as_utc(welcome.fetched_at) or datetime.now(UTC),
        "cost": cost,
        "median_reply_days": welcome.median_reply_days,
    }
    with db.session() as session:
        row = session.get(RepoWelcomeRow, repo.lower())
        if row is None:
            session.add(RepoWelcomeRow(repo=repo.lower(), **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
        session.execute(
            update(IssueRow)
            .where(func.lower(IssueRow.repo) == repo.lower())
            .values(stored_at=datetime.now(UTC))
        )


def refresh_issue_repo_fields(
    db: Database,
    repo: str,
    *,
    stars: int | None,
    topics: tuple[str, ...],
    language: str | None,
    niches: tuple[str, ...],
) -> int:
    """Copy changed repository fields onto every stored issue of the repository; rows touched."""
    with db.session() as session:
        result = session.execute(
            update(IssueRow)
            .where(func.lower(IssueRow.repo) == repo.lower())
            .values(
                stars=stars,
                topics=list(topics),
                language=language,
                niches=list(niches),
                stored_at=datetime.now(UTC),  # advances the change mark the ranking index reads
            )
        )
        return result.rowcount or 0  # type: ignore[attr-defined]


def stored_states(db: Database, repo: str) -> dict[str, str]:
    """url -> state of every stored issue of a repository."""
    with db.session() as session:
        return dict(
            session.execute(select(IssueRow.url, IssueRow.state).where(IssueRow.repo == repo)).all()
        )


def mark_unlisted(db: Database, urls: Iterable[str], state: str = "unlisted") -> int:
    """Take issues out of the pool that a complete full pass no longer returned."""
    urls = list(urls)
    if not urls:
        return 0
    with db.session() as session:
        result = session.execute(
            update(IssueRow)
            .where(IssueRow.url.in_(urls))
            .values(state=state, stored_at=datetime.now(UTC))  # advances the change mark
        )
        return result.rowcount or 0  # type: ignore[attr-defined]
