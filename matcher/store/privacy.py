"""Every row about one learner, in every table: selected for an export, deleted for a forget.

A row is the learner's when it names them: any table's `learner_id` column (found from the
metadata, so a table added later with that column is covered without a change here), and the
portfolio rows of their own GitHub account (contributions, watermarks) by id or login.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, or_, select
from sqlalchemy.orm import Session

from matcher.store.db import Base, Database
from matcher.store.portfolio import AttributionRow, ContributionRow, WatermarkRow


@dataclass(frozen=True)
class LearnerKeys:
    """What names a learner in the store: their id, and their own GitHub accounts."""

    learner_id: str
    login_keys: frozenset[str] = frozenset()  # lower-case logins
    github_ids: frozenset[int] = frozenset()


def _account_filter(keys: LearnerKeys, id_column: Any, login_column: Any) -> ColumnElement | None:
    clauses = []
    if keys.github_ids:
        clauses.append(id_column.in_(sorted(keys.github_ids)))
    if keys.login_keys:
        clauses.append(func.lower(login_column).in_(sorted(keys.login_keys)))
    return or_(*clauses) if clauses else None


def _selections(keys: LearnerKeys) -> Iterator[tuple[Table, ColumnElement]]:
    """(table, where) for every table holding rows about the learner; children before parents."""
    contributions = _table(ContributionRow)
    own = _account_filter(keys, contributions.c.author_id, contributions.c.author_login)
    attributions = _table(AttributionRow)
    if own is not None:
        urls = select(contributions.c.url).where(own)
        yield attributions, attributions.c.contribution_url.in_(urls)
    for table in Base.metadata.sorted_tables[::-1]:
        if "learner_id" in table.c:
            yield table, table.c.learner_id == str(keys.learner_id)
    if own is not None:
        yield contributions, own
        watermarks = _table(WatermarkRow)
        author_keys = [f"id:{i}" for i in sorted(keys.github_ids)]
        author_keys += [f"login:{k}" for k in sorted(keys.login_keys)]
        by_login = func.lower(watermarks.c.login).in_(sorted(keys.login_keys) or [""])
        yield watermarks, or_(watermarks.c.author_key.in_(author_keys), by_login)


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


def learner_rows(db: Database, keys: LearnerKeys) -> dict[str, list[dict[str, Any]]]:
    """Every stored row about the learner, by table name, as JSON-ready dicts."""
    found: dict[str, list[dict[str, Any]]] = {}
    with db.session() as session:
        for table, where in _selections(keys):
            rows = [_plain(dict(r._mapping)) for r in session.execute(select(table).where(where))]
            for row in rows:
                if row not in found.setdefault(table.name, []):
                    found[table.name].append(row)
    return {name: rows for name, rows in sorted(found.items()) if rows}


def delete_learner_rows(db: Database, keys: LearnerKeys) -> dict[str, int]:
    """Delete every row about the learner in one transaction; rows deleted by table name."""
    counts: dict[str, int] = {}
    with db.session() as session:
        for table, where in _selections(keys):
            counts[table.name] = counts.get(table.name, 0) + _delete(session, table, where)
    return {name: n for name, n in sorted(counts.items()) if n}


def _delete(session: Session, table: Table, where: ColumnElement) -> int:
    result = session.execute(delete(table).where(where))
    return int(getattr(result, "rowcount", 0) or 0)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in row.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value
