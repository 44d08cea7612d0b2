"""How much one query asks of GitHub, and how it shrinks when GitHub gives up on it."""

from __future__ import annotations

from dataclasses import dataclass

from matcher.github import PAGE_SIZE

MIN_ISSUES_PER_PAGE = 5
SHRINK_REPOS_BELOW = 25  # halve issues per page down to this before fewer repositories a query


@dataclass
class QuerySize:
    """How much one issues query asks: repositories per query x issues per page.

    GitHub gives up on heavy queries (502/504 after 10 s, timeouts, RESOURCE_LIMITS_EXCEEDED);
    each give-up halves the size, issues first, and the run keeps the size that worked.
    """

    repos: int
    issues: int = PAGE_SIZE

    def shrink(self) -> bool:
        """A smaller size to try next; False when there is nothing left to shrink."""
        if self.issues > SHRINK_REPOS_BELOW:
            self.issues = max(SHRINK_REPOS_BELOW, self.issues // 2)
        elif self.repos > 1:
            self.repos = max(1, self.repos // 2)
        elif self.issues > MIN_ISSUES_PER_PAGE:
            self.issues = max(MIN_ISSUES_PER_PAGE, self.issues // 2)
        else:
            return False
        return True

    @classmethod
    def repositories_only(cls, repos: int) -> QuerySize:
        """The size of a query with fixed pages (the welcoming one): only repositories shrink."""
        return cls(repos, issues=MIN_ISSUES_PER_PAGE)

    @property
    def smallest(self) -> bool:
        return self.repos == 1 and self.issues <= MIN_ISSUES_PER_PAGE
