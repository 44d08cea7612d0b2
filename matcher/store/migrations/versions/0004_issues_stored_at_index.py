"""An index on issues.stored_at: the ranking index's change check reads its latest value.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes("issues")}
    if "ix_issues_stored_at" not in present:  # a store made from the models already has it
        op.create_index("ix_issues_stored_at", "issues", ["stored_at"])


def downgrade() -> None:
    op.drop_index("ix_issues_stored_at", table_name="issues")
