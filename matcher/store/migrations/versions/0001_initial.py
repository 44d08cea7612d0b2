"""The schema as main left it on 2026-12-02 (commit 2ddde20); adopts stores made before.

Stores made by earlier versions have no Alembic version: their tables were created on open and
grown by "add missing nullable columns". This revision creates what is missing and adds missing
columns and indexes the same way, so a store of any earlier version ends here without losing a row.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

# A copy frozen at this revision: later model changes get their own revision, never an edit here.
_SCHEMA = sa.MetaData()

TABLES = [
    sa.Table(
        "claims",
        _SCHEMA,
        sa.Column("guild_id", sa.String(length=32), nullable=False),
        sa.Column("issue_url", sa.String(), nullable=False),
        sa.Column("learner_id", sa.String(length=32), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "issue_url"),
    ),
    sa.Table(
        "contributions",
        _SCHEMA,
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_login", sa.String(), nullable=False),
        sa.Column("repo", sa.String(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("additions", sa.Integer(), nullable=True),
        sa.Column("deletions", sa.Integer(), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("closes", sa.JSON(), nullable=False),
        sa.Column("repo_stars", sa.Integer(), nullable=True),
        sa.Column("repo_language", sa.String(), nullable=True),
        sa.Column("repo_topics", sa.JSON(), nullable=False),
        sa.Column("reverted", sa.Boolean(), nullable=False),
        sa.Column("reverted_by", sa.String(), nullable=True),
        sa.Column("details", sa.Boolean(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("url"),
    ),
    sa.Table(
        "digest_deliveries",
        _SCHEMA,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("learner_id", sa.String(length=32), nullable=False),
        sa.Column("week", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("learner_id", "week", name="uq_digest_learner_week"),
    ),
    sa.Table(
        "discovery_cache",
        _SCHEMA,
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("etag", sa.String(), nullable=True),
        sa.Column("repos", sa.JSON(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    ),
    sa.Table(
        "embeddings",
        _SCHEMA,
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("model", "text_hash"),
    ),
    sa.Table(
        "github_identities",
        _SCHEMA,
        sa.Column("learner_id", sa.String(), nullable=False),
        sa.Column("login", sa.String(), nullable=False),
        sa.Column("login_key", sa.String(), nullable=False),
        sa.Column("github_id", sa.Integer(), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending_login", sa.String(), nullable=True),
        sa.Column("pending_login_key", sa.String(), nullable=True),
        sa.Column("pending_code_hash", sa.String(length=64), nullable=True),
        sa.Column("pending_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("learner_id"),
    ),
    sa.Table(
        "guild_settings",
        _SCHEMA,
        sa.Column("guild_id", sa.String(length=32), nullable=False),
        sa.Column("digest_channel_id", sa.String(length=32), nullable=True),
        sa.Column("focus_repos", sa.JSON(), nullable=False),
        sa.Column("focus_niches", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id"),
    ),
    sa.Table(
        "issue_keys",
        _SCHEMA,
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("issue_url", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        sa.UniqueConstraint("issue_url"),
    ),
    sa.Table(
        "issue_signals",
        _SCHEMA,
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("repo", sa.String(), nullable=False),
        sa.Column("beginner_strength", sa.Float(), nullable=False),
        sa.Column("reactions", sa.Integer(), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("url"),
    ),
    sa.Table(
        "issues",
        _SCHEMA,
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("repo", sa.String(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.Column("assignees", sa.JSON(), nullable=False),
        sa.Column("linked_prs", sa.JSON(), nullable=False),
        sa.Column("claimed", sa.Boolean(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("niches", sa.JSON(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("url"),
    ),
    sa.Table(
        "learners",
        _SCHEMA,
        sa.Column("learner_id", sa.String(length=32), nullable=False),
        sa.Column("skills", sa.Text(), nullable=False),
        sa.Column("niche", sa.Text(), nullable=False),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("github_login", sa.String(length=39), nullable=True),
        sa.Column("home_guild_id", sa.String(length=32), nullable=True),
        sa.Column("digest_enabled", sa.Boolean(), nullable=False),
        sa.Column("digest_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digest_weekday", sa.Integer(), nullable=False),
        sa.Column("digest_hour", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("pending_notice", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("learner_id"),
    ),
    sa.Table(
        "meta",
        _SCHEMA,
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    ),
    sa.Table(
        "portfolio_watermarks",
        _SCHEMA,
        sa.Column("author_key", sa.String(), nullable=False),
        sa.Column("login", sa.String(), nullable=False),
        sa.Column("merged_through", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("author_key"),
    ),
    sa.Table(
        "repo_meta",
        _SCHEMA,
        sa.Column("repo", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("niches", sa.JSON(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("repo"),
    ),
    sa.Table(
        "repo_sync_state",
        _SCHEMA,
        sa.Column("repo", sa.String(), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pass_mode", sa.String(), nullable=True),
        sa.Column("pass_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pass_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("pass_max_updated", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pass_fetched", sa.Integer(), nullable=False),
        sa.Column("last_completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("etag", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("repo"),
    ),
    sa.Table(
        "suggestions",
        _SCHEMA,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("learner_id", sa.String(length=32), nullable=False),
        sa.Column("issue_url", sa.String(), nullable=False),
        sa.Column("guild_id", sa.String(length=32), nullable=True),
        sa.Column("suggested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("digested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("learner_id", "issue_url", name="uq_suggestion_learner_issue"),
    ),
    sa.Table(
        "contribution_attributions",
        _SCHEMA,
        sa.Column("contribution_url", sa.String(), nullable=False),
        sa.Column("issue_url", sa.String(), nullable=False),
        sa.Column("learner_id", sa.String(), nullable=False),
        sa.Column("suggested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attributed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contribution_url"], ["contributions.url"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("contribution_url", "issue_url"),
    ),
]

INDEXES: list[tuple[str, str, list[str], dict[str, Any]]] = [
    ("contributions", "ix_contributions_author_id", ["author_id"], dict()),
    ("contributions", "ix_contributions_author_login", ["author_login"], dict()),
    ("contributions", "ix_contributions_merged_at", ["merged_at"], dict()),
    ("contributions", "ix_contributions_repo", ["repo"], dict()),
    ("digest_deliveries", "ix_digest_deliveries_learner_id", ["learner_id"], dict()),
    ("github_identities", "ix_github_identities_github_id", ["github_id"], dict()),
    ("github_identities", "ix_github_identities_login_key", ["login_key"], dict()),
    ("github_identities", "ix_github_identities_pending_login_key", ["pending_login_key"], dict()),
    (
        "github_identities",
        "ux_github_identities_verified_login",
        ["login_key"],
        dict(
            unique=True, sqlite_where=sa.text("verified = 1"), postgresql_where=sa.text("verified")
        ),
    ),
    ("issue_signals", "ix_issue_signals_repo", ["repo"], dict()),
    ("issues", "ix_issues_repo", ["repo"], dict()),
    ("issues", "ix_issues_state", ["state"], dict()),
    ("learners", "ix_learners_github_login", ["github_login"], dict()),
    ("suggestions", "ix_suggestions_issue_url", ["issue_url"], dict()),
    ("suggestions", "ix_suggestions_learner_id", ["learner_id"], dict()),
    (
        "contribution_attributions",
        "ix_contribution_attributions_learner_id",
        ["learner_id"],
        dict(),
    ),
]


def upgrade() -> None:
    bind = op.get_bind()
    present = set(sa.inspect(bind).get_table_names())
    for table in TABLES:
        if table.name in present:
            _add_missing_columns(bind, table)
        else:
            table.create(bind)
    inspector = sa.inspect(bind)
    for table_name, name, columns, options in INDEXES:
        if name not in {index["name"] for index in inspector.get_indexes(table_name)}:
            op.create_index(name, table_name, columns, **options)


def _add_missing_columns(bind: sa.Connection, table: sa.Table) -> None:
    """A store older than this revision lacks columns: they are added nullable, rows untouched."""
    present = {column["name"] for column in sa.inspect(bind).get_columns(table.name)}
    for column in table.columns:
        if column.name not in present:
            op.add_column(table.name, sa.Column(column.name, column.type, nullable=True))
            log.info("store adopted: added column %s.%s", table.name, column.name)


def downgrade() -> None:
    for table in reversed(TABLES):
        table.drop(op.get_bind())
