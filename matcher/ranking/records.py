"""A snapshot's issue records as columns, without their bodies.

Ranking reads an issue's body only while a snapshot is built (its text facts, term counts and
work-language cues); what it shows (title, URL, labels, the reasons) never reads it. So a snapshot
keeps every other field, a column each: strings and numbers as arrays, and the fields many issues
share (a repository's facts, a label set, a status) as ids into one grow-only table of distinct
values. `issue(row)` makes the Issue back, its body empty, for the few issues a ranking shows.
At a million issues a record takes about 0.3 KB this way, against 1.2 KB as Issue objects with
their bodies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from matcher.models import Issue

NO_TIME = np.iinfo(np.int64).min  # a time that is None
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass
class SharedValues:
    """Distinct values records refer to by id (grow-only: a snapshot built from another keeps its
    ids; appending is one list append, so a reader of older ids needs no lock)."""

    values: list[Any] = field(default_factory=list)
    ids: dict[Any, int] = field(default_factory=dict)

    def id_of(self, value: Any) -> int:
        found = self.ids.get(value)
        if found is None:
            found = self.ids[value] = len(self.values)
            self.values.append(value)
        return found


def _micros(when: datetime | None) -> int:
    return NO_TIME if when is None else (when - _EPOCH) // _MICROSECOND


def _time(value: int) -> datetime | None:
    return None if value == NO_TIME else _EPOCH + timedelta(microseconds=value)


@dataclass(frozen=True, eq=False)
class IssueRecords:
    """Every field of a snapshot's issues but the body, row-aligned columns."""

    shared: SharedValues
    urls: np.ndarray  # object: str
    titles: np.ndarray  # object: str
    numbers: np.ndarray  # int64
    comments: np.ndarray  # int64
    unanswered: np.ndarray  # int64: unanswered_comments
    times: np.ndarray  # (n, 3) int64 microseconds: created_at, updated_at, unanswered_since
    # (n, 3) int32 ids in `shared`: the repository's facts (repo, welcome, language, stars,
    # topics, niches), the labels, the status (state, assignees, linked_prs, claimed, demo)
    groups: np.ndarray

    def __len__(self) -> int:
        return len(self.urls)

    @staticmethod
    def of(issues: Sequence[Issue], shared: SharedValues) -> IssueRecords:
        """The records of `issues` (their bodies left out)."""
        n = len(issues)
        groups = np.fromiter(
            (
                value
                for i in issues
                for value in (
                    shared.id_of((i.repo, i.welcome, i.language, i.stars, i.topics, i.niches)),
                    shared.id_of(i.labels),
                    shared.id_of((i.state, i.assignees, i.linked_prs, i.claimed, i.demo)),
                )
            ),
            dtype=np.int32,
            count=3 * n,
        ).reshape(n, 3)
        times = np.fromiter(
            (_micros(t) for i in issues for t in (i.created_at, i.updated_at, i.unanswered_since)),
            dtype=np.int64,
            count=3 * n,
        ).reshape(n, 3)
        return IssueRecords(
            shared=shared,
            urls=objects_array([i.url for i in issues]),
            titles=objects_array([i.title for i in issues]),
            numbers=np.fromiter((i.number for i in issues), dtype=np.int64, count=n),
            comments=np.fromiter((i.comments for i in issues), dtype=np.int64, count=n),
            unanswered=np.fromiter(
                (i.unanswered_comments for i in issues), dtype=np.int64, count=n
            ),
            times=times,
            groups=groups,
        )

    def issue(self, row: int) -> Issue:
        """The issue at `row`, its body empty."""
        values = self.shared.values
        repo_facts, labels, status = self.groups[row].tolist()
        repo, welcome, language, stars, topics, niches = values[repo_facts]
        state, assignees, linked_prs, claimed, demo = values[status]
        created_at, updated_at, unanswered_since = self.times[row].tolist()
        return Issue(
            url=self.urls[row],
            repo=repo,
            number=int(self.numbers[row]),
            title=self.titles[row],
            labels=values[labels],
            state=state,
            language=language,
            created_at=_time(created_at),
            updated_at=_time(updated_at),
            comments=int(self.comments[row]),
            assignees=assignees,
            linked_prs=linked_prs,
            claimed=claimed,
            stars=stars,
            topics=topics,
            niches=niches,
            welcome=welcome,
            unanswered_comments=int(self.unanswered[row]),
            unanswered_since=_time(unanswered_since),
            demo=demo,
        )

    def repos(self, rows: np.ndarray | None = None) -> list[str]:
        """The repository of each row (of `rows`; None: every row)."""
        ids = self.groups[:, 0] if rows is None else self.groups[rows, 0]
        values = self.shared.values
        return [values[i][0] for i in ids.tolist()]

    def replaced(self, rows: np.ndarray, fresh: IssueRecords) -> IssueRecords:
        """A copy with `rows` holding `fresh`'s records, in order."""

        def put(column: np.ndarray, new: np.ndarray) -> np.ndarray:
            column = column.copy()
            column[rows] = new
            return column

        return IssueRecords(
            shared=self.shared,
            **{f: put(getattr(self, f), getattr(fresh, f)) for f in RECORD_COLUMNS},
        )


# the columns, row-aligned (shared is the table they refer to)
RECORD_COLUMNS = tuple(f.name for f in fields(IssueRecords) if f.name != "shared")


def objects_array(values: Sequence[str]) -> np.ndarray:
    """A one-dimensional object array of `values` (np.array would make a string array)."""
    found = np.empty(len(values), dtype=object)
    found[:] = values
    return found
