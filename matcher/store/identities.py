"""The `github_identities` table: a learner's GitHub login, claimed (with a code to prove it)
or verified; one verified claim per login."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Index,
    Integer,
    String,
    delete,
    or_,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from matcher.errors import IdentityError
from matcher.models import Identity, LoginClaim
from matcher.store.contributions import ContributionRow
from matcher.store.db import (
    Base,
    Database,
    UTCDateTime,
    batch_size,
    one_of,
)


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


def login_key(login: str) -> str:
    """GitHub logins are case-insensitive."""
    return login.strip().lower()


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
