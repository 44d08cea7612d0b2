"""All storage goes through this package: one module per area, all tables on one Base."""

from matcher.store import (
    issues,  # noqa: F401
    learners,  # noqa: F401
    portfolio,  # noqa: F401
    sync_state,  # noqa: F401
)
from matcher.store.db import Base, Database

__all__ = ["Base", "Database"]
