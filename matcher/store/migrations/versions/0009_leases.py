"""Leases for background passes, and who owns each digest reservation (issue 19).

- `leases`: one row per lease (name, owner, expires_at), renewed by its owner while it works.
- `digest_deliveries.owner`: the lease name of the process that reserved or took over a digest,
  so only reservations of an owner that stopped renewing are taken over.
- indexes on `digest_deliveries.week` and `.status`: a pass reads the due weeks and the open
  reservations without reading every delivery ever made.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a store adopted from before migrations was made from the models and may have all of it
    inspector = sa.inspect(op.get_bind())
    if "leases" not in inspector.get_table_names():
        op.create_table(
            "leases",
            sa.Column("name", sa.String(length=128), nullable=False),
            sa.Column("owner", sa.String(length=128), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("name"),
        )
    columns = {column["name"] for column in inspector.get_columns("digest_deliveries")}
    indexes = {index["name"] for index in inspector.get_indexes("digest_deliveries")}
    with op.batch_alter_table("digest_deliveries") as batch:
        if "owner" not in columns:
            batch.add_column(sa.Column("owner", sa.String(length=128), nullable=True))
        for column in ("week", "status"):
            if f"ix_digest_deliveries_{column}" not in indexes:
                batch.create_index(f"ix_digest_deliveries_{column}", [column])


def downgrade() -> None:
    with op.batch_alter_table("digest_deliveries") as batch:
        batch.drop_index("ix_digest_deliveries_status")
        batch.drop_index("ix_digest_deliveries_week")
        batch.drop_column("owner")
    op.drop_table("leases")
