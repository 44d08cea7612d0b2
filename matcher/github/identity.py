"""Proof that a GitHub login belongs to a learner: a one-time code in their bio or a public gist."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from matcher.github.pulls import GitHubUser, PullsClient
from matcher.github.pygithub import translated

log = logging.getLogger(__name__)

CODE_PREFIX = "mfi-verify-"
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (0/o, 1/l/i)
CODE_PATTERN = re.compile(rf"{CODE_PREFIX}[{_ALPHABET}]{{12}}")
GISTS_CHECKED = 10


def new_code() -> str:
    """A fresh one-time code, e.g. mfi-verify-k3x9qmrt2wzp (about 59 bits of randomness)."""
    return CODE_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(12))


def hash_code(code: str) -> str:
    """Only the hash of a code is stored, so a leaked database proves nothing."""
    return hashlib.sha256(code.strip().lower().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CodeSighting:
    code: str
    where: str  # "bio" or the gist's URL


def find_codes(
    client: PullsClient, user: GitHubUser, wanted: AbstractSet[str] = frozenset()
) -> list[CodeSighting]:
    """Verification-looking codes in the user's bio and newest public gists.

    Stops as soon as a code whose hash is in `wanted` is seen. Costs: 0 requests for the bio
    (read with the user), 1 for the gist list, 1 per gist whose description holds no code
    (file contents are only in the single-gist answer), at most GISTS_CHECKED of them.
    """
    found = [CodeSighting(c, "bio") for c in CODE_PATTERN.findall((user.bio or "").lower())]
    if any(hash_code(s.code) in wanted for s in found):
        return found
    client.requests.add("gists")
    with translated(f"public gists of '{user.login}'"):
        gists = client.gh.get_user(user.login, lazy=True).get_gists()
        for n, gist in enumerate(gists):
            if any(hash_code(s.code) in wanted for s in found):
                break
            if n >= GISTS_CHECKED:
                break
            where = gist.html_url or f"gist {gist.id}"
            in_description = CODE_PATTERN.findall((gist.description or "").lower())
            if in_description:
                found.extend(CodeSighting(c, where) for c in in_description)
                continue
            client.requests.add("gist")
            full = client.gh.get_gist(gist.id)
            for f in (full.files or {}).values():
                found.extend(
                    CodeSighting(c, where) for c in CODE_PATTERN.findall((f.content or "").lower())
                )
    return found


def code_matches(sightings: list[CodeSighting], code_hash: str) -> CodeSighting | None:
    """The sighting whose code hashes to the stored hash, if any (constant-time compare)."""
    for s in sightings:
        if secrets.compare_digest(hash_code(s.code), code_hash):
            return s
    return None
