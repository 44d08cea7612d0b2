"""Domain errors. Each carries a one-line message that tells the user what to fix."""


class MatcherError(Exception):
    """Base class for every error the matcher reports to a user as one line."""


class ConfigError(MatcherError):
    """A configuration file or environment value is missing or malformed."""


class SnapshotError(MatcherError):
    """A snapshot file cannot be read at all (single bad lines are skipped, not raised)."""


class ProfileError(MatcherError):
    """A learner profile is empty or malformed."""


class ModelLoadError(MatcherError):
    """The embedding model (ONNX default, or a sentence-transformers one) cannot be loaded."""


class StoreError(MatcherError):
    """The database cannot be opened or written."""


class GitHubError(MatcherError):
    """GitHub answered with an error, or could not be reached."""


class AuthError(GitHubError):
    """The GitHub token is missing or invalid."""


class RateLimitError(GitHubError):
    """The GitHub rate limit is exhausted and waiting is not allowed."""


class UnreachableError(GitHubError):
    """No connection to GitHub could be made at all (DNS, refused): the network is down."""


class MalformedResponseError(GitHubError):
    """GitHub answered, but not with the shape we asked for (truncated JSON, missing fields)."""


class GitHubNotFoundError(GitHubError):
    """GitHub has no such user, repository or pull request (or it is private)."""


class IdentityError(MatcherError):
    """A GitHub login cannot be linked: claimed by another learner, or never linked."""


class VerificationError(IdentityError):
    """The verification code was not found where the learner was told to put it, or expired."""


class SyncBusyError(StoreError):
    """Another sync runs on the same store; the message names it."""
