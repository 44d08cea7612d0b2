"""A learner's GitHub login has one home, the identity table: `learners.github_login` goes.

Each profile login without an identity row becomes an unverified link (login and login_key, as
matcher.portfolio.link writes them; no code yet: `/github link` issues one). A learner who already
has an identity keeps it as it is. Then the column and its index are dropped.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_learners = sa.table(
    "learners",
    sa.column("learner_id", sa.String),
    sa.column("github_login", sa.String),
)
_identities = sa.table(
    "github_identities",
    sa.column("learner_id", sa.String),
    sa.column("login", sa.String),
    sa.column("login_key", sa.String),
    sa.column("verified", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _login_key(login: str) -> str:
    """As matcher.store.portfolio.login_key (frozen here): logins compare without case."""
    return login.strip().lower()


def upgrade() -> None:
    bind = op.get_bind()
    linked = sa.select(_identities.c.learner_id).where(
        _identities.c.learner_id == _learners.c.learner_id
    )
    profile_logins = bind.execute(
        sa.select(_learners.c.learner_id, _learners.c.github_login).where(
            _learners.c.github_login.is_not(None), ~linked.exists()
        )
    ).all()
    now = datetime.now(UTC)
    rows = [
        {
            "learner_id": learner_id,
            "login": login.strip(),
            "login_key": _login_key(login),
            "verified": False,
            "created_at": now,
        }
        for learner_id, login in profile_logins
        if login.strip()
    ]
    if rows:
        op.bulk_insert(_identities, rows)
    with op.batch_alter_table("learners") as batch:
        batch.drop_index("ix_learners_github_login")
        batch.drop_column("github_login")


def downgrade() -> None:
    with op.batch_alter_table("learners") as batch:
        batch.add_column(sa.Column("github_login", sa.String(length=39), nullable=True))
        batch.create_index("ix_learners_github_login", ["github_login"], unique=False)
    bind = op.get_bind()
    for learner_id, login in bind.execute(
        sa.select(_identities.c.learner_id, _identities.c.login)
    ).all():
        bind.execute(
            _learners.update()
            .where(_learners.c.learner_id == learner_id)
            .values(github_login=login[:39])
        )
