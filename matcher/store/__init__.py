"""All storage goes through this package: one module per table and its queries, SQL only, all
tables on one Base (portfolio.py re-exports the four portfolio tables' modules)."""

from matcher.store import (
    attributions,  # noqa: F401
    communities,  # noqa: F401
    contributions,  # noqa: F401
    digests,  # noqa: F401
    discovery,  # noqa: F401
    identities,  # noqa: F401
    issue_keys,  # noqa: F401
    issue_signals,  # noqa: F401
    issues,  # noqa: F401
    learners,  # noqa: F401
    leases,  # noqa: F401
    meta,  # noqa: F401
    portfolio,  # noqa: F401
    repo_meta,  # noqa: F401
    suggestions,  # noqa: F401
    sync_locks,  # noqa: F401
    sync_state,  # noqa: F401
    text_facts,  # noqa: F401
    watermarks,  # noqa: F401
)
from matcher.store.db import Base, Database

__all__ = ["Base", "Database"]
