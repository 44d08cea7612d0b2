"""Issue activity (issue 13): unanswered comments per issue, and no invented last activity.

Two columns on `issues`: how many of the last comments from people who are not maintainers no
maintainer answered, and since when (matcher.github.parse.unanswered). Stored rows get 0 / NULL
(neutral) until the sync fetches them again.

Before this revision the snapshot reader filled a missing `updated_at` with `created_at`, which
reads as "no activity since it was opened" and would mark every such issue as stale. A row that
the sync never stored (no `issue_signals` row) whose `updated_at` equals its `created_at` got it
that way: its `updated_at` becomes NULL (unknown), which the ranking treats as before (freshness
falls back to `created_at`) and the staleness warning treats as neutral.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_NEVER_SYNCED_FILLED = (
    "UPDATE issues SET updated_at = NULL WHERE updated_at = created_at"
    " AND NOT EXISTS (SELECT 1 FROM issue_signals WHERE issue_signals.url = issues.url)"
)


def upgrade() -> None:
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("issues")}
    if "unanswered_comments" not in present:  # a store made from the models already has them
        with op.batch_alter_table("issues") as batch:
            batch.add_column(
                sa.Column("unanswered_comments", sa.Integer(), nullable=False, server_default="0")
            )
            batch.add_column(
                sa.Column("unanswered_since", sa.DateTime(timezone=True), nullable=True)
            )
    op.execute(_NEVER_SYNCED_FILLED)


def downgrade() -> None:
    op.execute("UPDATE issues SET updated_at = created_at WHERE updated_at IS NULL")
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("unanswered_since")
        batch.drop_column("unanswered_comments")
