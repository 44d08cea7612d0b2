"""Deprecated: the sync moved to the `matcher.sync` package; import from there.

This shim re-exports the old public names (sync, refresh_welcome, discover_repos, SyncReport,
SyncProgress, QuerySize and the constants) for branches still in flight that import
`matcher.ingest`; the integrator removes it once they are merged.
"""

from matcher.sync import *  # noqa: F403
from matcher.sync import __all__ as __all__
