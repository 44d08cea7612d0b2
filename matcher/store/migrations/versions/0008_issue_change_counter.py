"""issues.change_seq and the issue_changes counter: the ranking index's change mark, from the
database instead of a writer's clock (issue 19 point 5, issue 22).

Every write of an issue row (insert or update, by any code path) takes the next value of one
counter row, in the writer's own transaction, through a trigger: the row lock serialises writers,
so the values are handed out in commit order and a reader that sees value N has every row up to N.
A reader's change check is one primary-key read of the counter.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER IF NOT EXISTS issues_change_on_insert AFTER INSERT ON issues
    BEGIN
        UPDATE issue_changes SET seq = seq + 1 WHERE id = 1;
        UPDATE issues SET change_seq = (SELECT seq FROM issue_changes WHERE id = 1)
            WHERE rowid = NEW.rowid;
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS issues_change_on_update AFTER UPDATE ON issues
    WHEN NEW.change_seq IS OLD.change_seq
    BEGIN
        UPDATE issue_changes SET seq = seq + 1 WHERE id = 1;
        UPDATE issues SET change_seq = (SELECT seq FROM issue_changes WHERE id = 1)
            WHERE rowid = NEW.rowid;
    END
    """,
)
POSTGRES_TRIGGERS = (
    """
    CREATE OR REPLACE FUNCTION issues_take_change_seq() RETURNS trigger AS $$
    BEGIN
        UPDATE issue_changes SET seq = seq + 1 WHERE id = 1 RETURNING seq INTO NEW.change_seq;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS issues_change_seq ON issues",
    """
    CREATE TRIGGER issues_change_seq BEFORE INSERT OR UPDATE ON issues
    FOR EACH ROW EXECUTE FUNCTION issues_take_change_seq()
    """,
)


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if "change_seq" not in {c["name"] for c in inspector.get_columns("issues")}:
        op.add_column(
            "issues",
            sa.Column("change_seq", sa.BigInteger(), nullable=False, server_default="0"),
        )
    if "ix_issues_change_seq" not in {i["name"] for i in inspector.get_indexes("issues")}:
        op.create_index("ix_issues_change_seq", "issues", ["change_seq"])
    if "issue_changes" not in inspector.get_table_names():
        op.create_table(
            "issue_changes",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("seq", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    # rows stored before this revision take mark 1, the counter's start: the next write is 2
    if bind.execute(sa.text("SELECT count(*) FROM issue_changes")).scalar() == 0:
        bind.execute(sa.text("INSERT INTO issue_changes (id, seq) VALUES (1, 1)"))
    bind.execute(sa.text("UPDATE issues SET change_seq = 1 WHERE change_seq = 0"))
    for statement in POSTGRES_TRIGGERS if bind.dialect.name == "postgresql" else SQLITE_TRIGGERS:
        bind.execute(sa.text(statement))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("DROP TRIGGER IF EXISTS issues_change_seq ON issues"))
        bind.execute(sa.text("DROP FUNCTION IF EXISTS issues_take_change_seq()"))
    else:
        bind.execute(sa.text("DROP TRIGGER IF EXISTS issues_change_on_insert"))
        bind.execute(sa.text("DROP TRIGGER IF EXISTS issues_change_on_update"))
    op.drop_table("issue_changes")
    op.drop_index("ix_issues_change_seq", table_name="issues")
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("change_seq")
