"""issues.demo: invented demo issues stay marked as demo (issue 21).

Before this revision `import` dropped the `"demo": true` of the bundled demo snapshot, so its
invented issues were stored, ranked and exported as if they were real. Stored rows whose URL and
title are those of a bundled demo issue were imported from that file (a real issue with the same
number has another title): they get the flag back. Every other row is not demo.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import json
from importlib import resources

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_MARK_DEMO = sa.text("UPDATE issues SET demo = :yes WHERE url = :url AND title = :title")


def upgrade() -> None:
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("issues")}
    if "demo" not in present:  # a store made from the models already has it
        # a plain ADD COLUMN: a batch (copy-and-rename) on SQLite would drop revision 0008's
        # change-counter triggers with the old table
        op.add_column(
            "issues", sa.Column("demo", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    demo = _bundled_demo_issues()
    if demo:
        op.get_bind().execute(
            _MARK_DEMO, [{"yes": True, "url": url, "title": title} for url, title in demo]
        )


def downgrade() -> None:
    with op.batch_alter_table("issues") as batch:
        batch.drop_column("demo")


def _bundled_demo_issues() -> list[tuple[str, str]]:
    """(url, title) of each issue in the demo snapshot the package ships, read as plain JSON
    (not through the snapshot reader, which may change after this revision)."""
    path = resources.files("matcher") / "data" / "demo_issues.jsonl"
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            found.append((record["url"], record["title"].strip()))
    return found
