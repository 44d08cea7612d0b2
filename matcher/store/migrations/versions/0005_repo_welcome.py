"""The repo_welcome table: how each repository treats first-time contributors (issue 13).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "repo_welcome" in sa.inspect(op.get_bind()).get_table_names():
        return  # a store made from the models already has it
    op.create_table(
        "repo_welcome",
        sa.Column("repo", sa.String(), primary_key=True),
        sa.Column("newcomer_prs", sa.Integer(), nullable=False),
        sa.Column("newcomer_merged", sa.Integer(), nullable=False),
        sa.Column("median_merge_days", sa.Float(), nullable=True),
        sa.Column("last_merged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("median_reply_days", sa.Float(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("repo_welcome")
