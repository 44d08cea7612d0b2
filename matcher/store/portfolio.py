"""Portfolio storage, one table a module: `identities` (verified GitHub logins), `contributions`
(merged pull requests), `attributions` (pull requests that closed suggested issues), `watermarks`
(how far each author was fetched). This module keeps the names others import from it."""

from __future__ import annotations

from matcher.models import Attribution, Contribution, Identity, LoginClaim
from matcher.store.attributions import AttributionRow, add_attribution, load_attributions
from matcher.store.contributions import (
    AddCounts,
    ContributionRow,
    add_contributions,
    contribution_repos,
    contributions_by_author_id,
    known_urls,
    load_contributions,
    mark_reverted,
    with_reverted,
)
from matcher.store.db import Database
from matcher.store.identities import (
    IdentityRow,
    claims_for_login,
    get_identity,
    identities_by_learner,
    identities_for_login,
    login_key,
    mark_verified,
    rename_identity,
    save_claim,
    unlink_identity,
    verified_identities,
    verified_identity,
)
from matcher.store.watermarks import WatermarkRow, author_key, get_watermark, set_watermark

__all__ = [
    "AddCounts",
    "Attribution",
    "AttributionRow",
    "Contribution",
    "ContributionRow",
    "Identity",
    "IdentityRow",
    "LoginClaim",
    "WatermarkRow",
    "add_attribution",
    "add_contributions",
    "author_key",
    "claims_for_login",
    "contribution_repos",
    "contributions_by_author_id",
    "get_identity",
    "get_watermark",
    "identities_by_learner",
    "identities_for_login",
    "known_urls",
    "load_attributions",
    "load_contributions",
    "login_key",
    "mark_reverted",
    "mark_verified",
    "rename_identity",
    "save_claim",
    "set_watermark",
    "suggestions_of",
    "unlink_identity",
    "verified_identities",
    "verified_identity",
    "with_reverted",
]


def suggestions_of(db: Database, learner_id: str | None = None) -> list:
    """Suggestions made to a learner (or to everyone): matcher.models.Suggestion records."""
    from matcher.store.suggestions import suggestions_for

    return suggestions_for(db, learner_id)
