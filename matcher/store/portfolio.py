"""Portfolio storage: verified GitHub identities, merged pull requests, attributions, watermarks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    delete,
    or_,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from matcher.errors import IdentityError
from matcher.models import Attribution, Contribution, Identity, LoginClaim
from matcher.store.db import (
    Base,
    Database,
    UTCDateTime,
    batch_size,
    insert_ignoring_duplicates,
    one_of,
    sql_insert,
)

# --- records (Contribution, Identity, LoginClaim, Attribution live in matcher.models) -------


@dataclass
class AddCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    added_urls: list[str] = field(default_factory=list)


# --- tables --------------------------------------------------------------------------------


class IdentityRow(Base):
    __tablename__ = "github_identities"
    __table_args__ = (
        # one login belongs to one learner at a time: at most one verified claim per login
        Index(
            "ux_github_identities_verified_login",
            "login_key",
            unique=True,
            sqlite_where=text("verified = 1"),
            postgresql_where=text("verified"),
        ),
    )

    learner_id: Mapped[str] = mapped_column(String, primary_key=True)
    login: Mapped[str] = mapped_column(String)
    login_key: Mapped[str] = mapped_column(String, index=True)
    github_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # a claim to another login, held beside the verified one until it is proven
    pending_login: Mapped[str | None] = mapped_column(String, nullable=True)
    pending_login_key: Mapped[str | None] = mapped_column(String, nullable=True, index=True)
    pending_code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pending_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContributionRow(Base):
    __tablename__ = "contributions"

    url: Mapped[str] = mapped_column(String, primary_key=True)
    author_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    author_login: Mapped[str] = mapped_column(String, index=True)
    repo: Mapped[str] = mapped_column(String, index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    additions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deletions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    labels: Mapped[list] = mapped_column(JSON, default=list)
    closes: Mapped[list] = mapped_column(JSON, default=list)
    repo_stars: Mapped[int | None] = mapped_column(Integer, nullable=True)
    repo_language: Mapped[str | None] = mapped_column(String, nullable=True)
    repo_topics: Mapped[list] = mapped_column(JSON, default=list)
    reverted: Mapped[bool] = mapped_column(Boolean, default=False)
    reverted_by: Mapped[str | None] = mapped_column(String, nullable=True)
    details: Mapped[bool] = mapped_column(Boolean, default=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AttributionRow(Base):
    __tablename__ = "contribution_attributions"

    contribution_url: Mapped[str] = mapped_column(
        String, ForeignKey("contributions.url", ondelete="CASCADE"), primary_key=True
    )
    issue_url: Mapped[str] = mapped_column(String, primary_key=True)
    learner_id: Mapped[str] = mapped_column(String, index=True)
    suggested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attributed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WatermarkRow(Base):
    __tablename__ = "portfolio_watermarks"

    # the GitHub user id survives a rename; the login is kept for people reading the table
    author_key: Mapped[str] = mapped_column(String, primary_key=True)
    login: Mapped[str] = mapped_column(String)
    merged_through: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- helpers -------------------------------------------------------------------------------


def login_key(login: str) -> str:
    """GitHub logins are case-insensitive."""
    return login.strip().lower()


def author_key(github_id: int | None, login: str) -> str:
    return f"id:{github_id}" if github_id is not None else f"login:{login_key(login)}"


def _identity(row: IdentityRow) -> Identity:
    return Identity(
        learner_id=row.learner_id,
        login=row.login,
        github_id=row.github_id,
        verified=bool(row.verified),
        verified_at=row.verified_at,
        code_hash=row.code_hash,
        code_expires_at=row.code_expires_at,
        pending_login=row.pending_login,
        pending_code_hash=row.pending_code_hash,
        pending_expires_at=row.pending_expires_at,
    )


def _clear_pending(row: IdentityRow) -> None:
    row.pending_login = None
    row.pending_login_key = None
    row.pending_code_hash = None
    row.pending_expires_at = None


_SCALARS = (
    "author_id",
    "author_login",
    "repo",
    "number",
    "title",
    "merged_at",
    "additions",
    "deletions",
    "repo_stars",
    "repo_language",
    "reverted",
    "reverted_by",
    "details",
)
_LISTS = ("labels", "closes", "repo_topics")


def _contribution(row: ContributionRow) -> Contribution:
    values = {name: getattr(row, name) for name in _SCALARS}
    values["merged_at"] = row.merged_at
    values["reverted"] = bool(row.reverted)
    values["details"] = bool(row.details)
    values.update({name: tuple(getattr(row, name) or ()) for name in _LISTS})
    return Contribution(url=row.url, **values)


# --- identities ----------------------------------------------------------------------------


def get_identity(db: Database, learner_id: str) -> Identity | None:
    with db.session() as session:
        row = session.get(IdentityRow, str(learner_id))
        return _identity(row) if row else None


def identities_for_login(db: Database, login: str) -> list[Identity]:
    """Every identity whose login is this one (verified or claimed), the verified one first.

    Claims held beside another verified login are not included: see `claims_for_login`.
    """
    query = select(IdentityRow).where(IdentityRow.login_key == login_key(login))
    with db.session() as session:
        rows = [_identity(r) for r in session.scalars(query)]
    return sorted(rows, key=lambda i: not i.verified)


def claims_for_login(db: Database, login: str) -> list[LoginClaim]:
    """Every pending claim to a login: first claims and those held beside a verified login."""
    key = login_key(login)
    query = select(IdentityRow).where(
        or_(IdentityRow.login_key == key, IdentityRow.pending_login_key == key)
    )
    with db.session() as session:
        identities = [_identity(r) for r in session.scalars(query)]
    return [i.claim for i in identities if i.claim is not None and login_key(i.claim.login) == key]


def verified_identity(db: Database, login: str) -> Identity | None:
    return next((i for i in identities_for_login(db, login) if i.verified), None)


def verified_identities(db: Database) -> list[Identity]:
    """All verified identities, for the periodic refresh."""
    query = (
        select(IdentityRow).where(IdentityRow.verified.is_(True)).order_by(IdentityRow.login_key)
    )
    with db.session() as session:
        return [_identity(r) for r in session.scalars(query)]


def save_claim(
    db: Database, learner_id: str, login: str, code_hash: str, expires_at: datetime
) -> Identity:
    """Record a pending (unverified) claim to a login.

    A learner without a verified login: the claim replaces their previous one. A learner with a
    verified login keeps it (it stays evidence); the claim is held beside it, replacing an earlier
    pending claim, until `mark_verified` proves it.
    """
    now = datetime.now(UTC)
    with db.session() as session:
        row = session.get(IdentityRow, str(learner_id))
        if row is None:
            row = IdentityRow(learner_id=str(learner_id), created_at=now)
            session.add(row)
        if row.verified:
            if row.login_key == login_key(login):
                raise IdentityError(
                    f"GitHub login {row.login} is already verified for learner {learner_id}"
                )
            row.pending_login = login
            row.pending_login_key = login_key(login)
            row.pending_code_hash = code_hash
            row.pending_expires_at = expires_at
            session.flush()
            return _identity(row)
        _clear_pending(row)
        if row.login_key != login_key(login):
            row.github_id = None
        row.login = login
        row.login_key = login_key(login)
        row.verified = False
        row.verified_at = None
        row.code_hash = code_hash
        row.code_expires_at = expires_at
        session.flush()
        return _identity(row)


def mark_verified(db: Database, learner_id: str, github_id: int, login: str) -> Identity:
    """Turn a claim into the learner's verified identity; it replaces their earlier verified login.

    Other learners' pending claims to the login are dropped (first claims and claims held beside
    a verified login alike). A login verified by another learner raises IdentityError.
    """
    now = datetime.now(UTC)
    key = login_key(login)
    try:
        with db.session() as session:
            row = session.get(IdentityRow, str(learner_id))
            if row is None:
                raise IdentityError(f"learner {learner_id} has not linked a GitHub login")
            session.execute(
                delete(IdentityRow).where(
                    IdentityRow.login_key == key,
                    IdentityRow.learner_id != str(learner_id),
                    IdentityRow.verified.is_(False),
                )
            )
            for other in session.scalars(
                select(IdentityRow).where(
                    IdentityRow.pending_login_key == key,
                    IdentityRow.learner_id != str(learner_id),
                )
            ):
                _clear_pending(other)
            _clear_pending(row)
            row.login = login
            row.login_key = key
            row.github_id = github_id
            row.verified = True
            row.verified_at = now
            row.code_hash = None
            row.code_expires_at = None
            session.flush()
            return _identity(row)
    except IntegrityError:
        raise IdentityError(
            f"GitHub login {login} is already verified by another learner"
        ) from None


def rename_identity(db: Database, github_id: int, new_login: str) -> None:
    """GitHub renamed a login: follow it on every claim bearing that user id."""
    with db.session() as session:
        for row in session.scalars(select(IdentityRow).where(IdentityRow.github_id == github_id)):
            row.login = new_login
            row.login_key = login_key(new_login)
        for contribution in session.scalars(
            select(ContributionRow).where(ContributionRow.author_id == github_id)
        ):
            contribution.author_login = new_login


def unlink_identity(db: Database, learner_id: str) -> bool:
    with db.session() as session:
        row = session.get(IdentityRow, str(learner_id))
        if row is None:
            return False
        session.delete(row)
        return True


# --- contributions -------------------------------------------------------------------------


def known_urls(db: Database, urls: Iterable[str]) -> set[str]:
    wanted = list(set(urls))
    found: set[str] = set()
    with db.session() as session:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(
                session.scalars(select(ContributionRow.url).where(ContributionRow.url.in_(chunk)))
            )
    return found


def add_contributions(db: Database, contributions: Iterable[Contribution]) -> AddCounts:
    """Store merged pull requests once each; a known one is updated only where GitHub says more.

    Safe to race: new rows go in with INSERT ... ON CONFLICT DO NOTHING, so two processes
    storing the same pull request both succeed and leave one row. Nothing stored is ever
    removed: a repository that became private keeps its earlier details, and a reverted flag,
    once set, stays.
    """
    counts = AddCounts()
    latest = {c.url: c for c in contributions}  # one row per URL
    if not latest:
        return counts
    now = datetime.now(UTC)
    rows = [
        {
            "url": c.url,
            "first_seen_at": now,
            **{name: getattr(c, name) for name in _SCALARS},
            **{name: list(getattr(c, name)) for name in _LISTS},
        }
        for c in latest.values()
    ]
    with db.session() as session:
        inserted: set[str] = set()
        for start in range(0, len(rows), 500):
            statement = (
                sql_insert(session, ContributionRow)
                .values(rows[start : start + 500])
                .on_conflict_do_nothing(index_elements=["url"])
                .returning(ContributionRow.url)
            )
            inserted.update(session.scalars(statement))
        for c in latest.values():
            if c.url in inserted:
                counts.added += 1
                counts.added_urls.append(c.url)
                continue
            changed = _merge_row(session.get(ContributionRow, c.url), c)  # type: ignore[arg-type]
            counts.updated += changed
            counts.unchanged += not changed
    return counts


def _merge_row(row: ContributionRow, c: Contribution) -> bool:
    updates: dict = {}
    if c.details:
        for name in ("title", "additions", "deletions", "repo_stars", "repo_language"):
            value = getattr(c, name)
            if value is not None and value != getattr(row, name):
                updates[name] = value
        for name in _LISTS:
            value = list(getattr(c, name))
            if value and value != list(getattr(row, name) or []):
                updates[name] = value
        if not row.details:
            updates["details"] = True
    if c.author_id is not None and row.author_id != c.author_id:
        updates["author_id"] = c.author_id
    if c.author_login and c.author_login != row.author_login:
        updates["author_login"] = c.author_login
    if c.reverted and not row.reverted:
        updates["reverted"] = True
        updates["reverted_by"] = c.reverted_by
    for name, value in updates.items():
        setattr(row, name, value)
    return bool(updates)


def mark_reverted(db: Database, url: str, reverted_by: str) -> bool:
    """Flag a stored pull request as reverted; False when unknown or already flagged."""
    with db.session() as session:
        row = session.get(ContributionRow, url)
        if row is None or row.reverted:
            return False
        row.reverted = True
        row.reverted_by = reverted_by
        return True


def load_contributions(
    db: Database, *, author_id: int | None = None, login: str | None = None
) -> list[Contribution]:
    """Stored merged pull requests of one author (by GitHub id, else by login), oldest first."""
    query = select(ContributionRow).order_by(ContributionRow.merged_at, ContributionRow.url)
    if author_id is not None:
        query = query.where(ContributionRow.author_id == author_id)
    elif login is not None:
        query = query.where(ContributionRow.author_login.ilike(login.strip()))
    with db.session() as session:
        return [_contribution(r) for r in session.scalars(query)]


def identities_by_learner(db: Database, learner_ids: Iterable[str]) -> dict[str, Identity]:
    """The identity of each of these learners that has one (one query per batch_size)."""
    ids = sorted({str(x) for x in learner_ids})
    found: dict[str, Identity] = {}
    size = batch_size(db)
    with db.session() as session:
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            query = select(IdentityRow).where(one_of(session, IdentityRow.learner_id, chunk))
            found.update({row.learner_id: _identity(row) for row in session.scalars(query)})
    return found


def contributions_by_author_id(
    db: Database, author_ids: Iterable[int]
) -> dict[int, list[Contribution]]:
    """Stored merged pull requests of each GitHub user id, oldest first (a query per batch_size)."""
    ids = sorted(set(author_ids))
    found: dict[int, list[Contribution]] = {x: [] for x in ids}
    size = batch_size(db)
    with db.session() as session:
        for start in range(0, len(ids), size):
            query = (
                select(ContributionRow)
                .where(one_of(session, ContributionRow.author_id, ids[start : start + size]))
                .order_by(ContributionRow.merged_at, ContributionRow.url)
            )
            for row in session.scalars(query):
                found[row.author_id].append(_contribution(row))  # type: ignore[index]
    return found


def contribution_repos(db: Database, author_id: int | None, login: str) -> list[str]:
    return sorted({c.repo for c in load_contributions(db, author_id=author_id, login=login)})


# --- attributions --------------------------------------------------------------------------


def add_attribution(db: Database, attribution: Attribution) -> bool:
    """Record that a contribution closed a suggested issue; False when already recorded (by this
    process or another: the insert is ON CONFLICT DO NOTHING)."""
    row = {
        "contribution_url": attribution.contribution_url,
        "issue_url": attribution.issue_url,
        "learner_id": str(attribution.learner_id),
        "suggested_at": attribution.suggested_at,
        "attributed_at": datetime.now(UTC),
    }
    with db.session() as session:
        statement = (
            sql_insert(session, AttributionRow)
            .values(row)
            .on_conflict_do_nothing(index_elements=["contribution_url", "issue_url"])
            .returning(AttributionRow.issue_url)
        )
        return session.scalar(statement) is not None


def load_attributions(db: Database, learner_id: str | None = None) -> list[Attribution]:
    query = select(AttributionRow, ContributionRow.merged_at).join(
        ContributionRow, ContributionRow.url == AttributionRow.contribution_url
    )
    if learner_id is not None:
        query = query.where(AttributionRow.learner_id == str(learner_id))
    with db.session() as session:
        return [
            Attribution(
                contribution_url=row.contribution_url,
                learner_id=row.learner_id,
                issue_url=row.issue_url,
                suggested_at=row.suggested_at,
                merged_at=merged_at,
            )
            for row, merged_at in session.execute(query)
        ]


# --- watermarks ----------------------------------------------------------------------------


def get_watermark(db: Database, key: str) -> datetime | None:
    with db.session() as session:
        row = session.get(WatermarkRow, key)
        return row.merged_through if row else None


def set_watermark(db: Database, key: str, login: str, merged_through: datetime | None) -> None:
    """Advance the refresh watermark (never moves it back; safe to race)."""
    now = datetime.now(UTC)
    with db.session() as session:
        insert_ignoring_duplicates(
            session,
            WatermarkRow,
            [{"author_key": key, "login": login, "merged_through": None, "refreshed_at": now}],
            ["author_key"],
        )
        row = session.get(WatermarkRow, key, with_for_update=True)
        assert row is not None  # inserted above, and nothing deletes watermarks
        row.login = login
        row.refreshed_at = now
        current = row.merged_through
        if merged_through is not None and (current is None or merged_through > current):
            row.merged_through = merged_through


def with_reverted(c: Contribution, by: str) -> Contribution:
    return replace(c, reverted=True, reverted_by=by)


# --- suggestions (read-only; the table belongs to matcher.store.suggestions) ---------------


def suggestions_of(db: Database, learner_id: str | None = None) -> list:
    """Suggestions made to a learner (or to everyone): matcher.models.Suggestion records."""
    from matcher.store.suggestions import suggestions_for

    return suggestions_for(db, learner_id)
