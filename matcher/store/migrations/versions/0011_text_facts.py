"""text_facts: what an issue's title and body alone say for its signals, by a hash of the text.

Building the ranking index scanned every issue's title and body (the kind of work its title
names, what makes it look hard, the work cues of each language) at every warm-up; it now reads
what it found before from this table and scans only texts it has not seen (issue 22). A row is
keyed by signals.text_facts_key and the version of what it holds (signals.TEXT_FACTS_VERSION):
another version's rows are never read. Nothing is filled here: the first warm-up stores them.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a store adopted from before migrations was made from the models and may have it
    if "text_facts" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "text_facts",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=True),
        sa.Column("marks", sa.Integer(), nullable=False),
        sa.Column("cue_counts", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("key", "version"),
    )


def downgrade() -> None:
    op.drop_table("text_facts")
