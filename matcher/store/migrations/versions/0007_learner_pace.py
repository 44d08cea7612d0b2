"""learners.pace: where a learner's suggestions aim on the difficulty ramp (issue 13).

'easier', 'auto' or 'harder'; every existing learner starts on 'auto', which ranks as before.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("learners")}
    if "pace" in columns:  # a store made from the models already has it
        return
    op.add_column(
        "learners",
        sa.Column("pace", sa.String(length=8), nullable=False, server_default="auto"),
    )


def downgrade() -> None:
    with op.batch_alter_table("learners") as batch:
        batch.drop_column("pace")
