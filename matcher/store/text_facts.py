"""What issues' titles and bodies alone say for their signals (table text_facts), by a hash of
the text (signals.text_facts_key): building the ranking index reads them instead of scanning
every text again (revision 0011)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from typing import Any

from sqlalchemy import Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from matcher.signals import TEXT_FACTS_VERSION, TextFacts, text_facts_key_of
from matcher.store.db import Base, Database, one_of, rows_with_keys, sql_insert
from matcher.store.issues import issue_texts

log = logging.getLogger(__name__)


class TextFactsRow(Base):
    __tablename__ = "text_facts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # signals.text_facts_key
    version: Mapped[int] = mapped_column(Integer, primary_key=True)  # TEXT_FACTS_VERSION
    kind: Mapped[str | None] = mapped_column(String, nullable=True)
    marks: Mapped[int] = mapped_column(Integer)
    cue_counts: Mapped[str] = mapped_column(String)  # space-separated, one per language


def get_text_facts(
    db: Database, keys: Collection[str], sound: Callable[[TextFacts], bool]
) -> dict[str, TextFacts]:
    """The stored TextFacts of this version for these keys; rows that do not decode, or whose
    facts `sound` refuses, are left out (their texts are scanned again), with one log line."""
    wanted = set(keys)
    found: dict[str, TextFacts] = {}
    bad = 0
    with db.session() as session:
        for key, kind, marks, cue_counts in _stored(session, wanted):
            facts = _decoded(kind, marks, cue_counts)
            if facts is None or not sound(facts):
                bad += 1
            else:
                found[key] = facts
    if bad:
        log.warning("text_facts: %d stored rows unusable; their texts are scanned again", bad)
    return found


def _stored(session: Session, wanted: set[str]) -> Iterator[Any]:
    table = TextFactsRow.__table__  # plain rows: no ORM bookkeeping per row
    rows = select(table.c.key, table.c.kind, table.c.marks, table.c.cue_counts).where(
        table.c.version == TEXT_FACTS_VERSION
    )
    return rows_with_keys(session, rows, table.c.key, wanted)


def _decoded(kind: Any, marks: Any, cue_counts: Any) -> TextFacts | None:
    """TextFacts of one row, None when its values are not of their types."""
    if not (kind is None or isinstance(kind, str)) or not isinstance(marks, int):
        return None
    if not isinstance(cue_counts, str):
        return None
    try:
        counts = tuple(map(int, cue_counts.split()))
    except ValueError:
        return None
    return TextFacts(kind=kind, marks=marks, cue_counts=counts)


def put_text_facts(db: Database, facts: dict[str, TextFacts]) -> None:
    """Store TextFacts by key at this version (a row already there is replaced: the same text
    gives the same facts, and a row that did not decode is mended). One statement executed
    for all rows: a first warm-up stores tens of thousands."""
    rows = [
        {
            "key": key,
            "version": TEXT_FACTS_VERSION,
            "kind": found.kind,
            "marks": found.marks,
            "cue_counts": " ".join(map(str, found.cue_counts)),
        }
        for key, found in facts.items()
    ]
    if not rows:
        return
    with db.session() as session:
        statement = sql_insert(session, TextFactsRow)
        replace = {name: statement.excluded[name] for name in ("kind", "marks", "cue_counts")}
        statement = statement.on_conflict_do_update(index_elements=["key", "version"], set_=replace)
        session.execute(statement, rows)


def prune_text_facts(db: Database) -> int:
    """Delete the facts of another TEXT_FACTS_VERSION, and of texts no stored issue has any
    more (open or closed); return how many. Facts a warm-up stores while this runs may go too:
    they are a cache, found again by the next warm-up."""
    in_use = {text_facts_key_of(title, body) for title, body in issue_texts(db)}
    with db.session() as session:
        removed = session.execute(
            delete(TextFactsRow).where(TextFactsRow.version != TEXT_FACTS_VERSION)
        ).rowcount  # type: ignore[attr-defined]
        current = select(TextFactsRow.key).where(TextFactsRow.version == TEXT_FACTS_VERSION)
        unused = [key for key in session.scalars(current) if key not in in_use]
        for start in range(0, len(unused), 500):
            chunk = unused[start : start + 500]
            session.execute(delete(TextFactsRow).where(one_of(session, TextFactsRow.key, chunk)))
        return (removed or 0) + len(unused)
