"""A community's settings: the digest fallback channel and the repositories or niches in focus."""

from __future__ import annotations

import re
from typing import Any

from matcher.errors import ProfileError
from matcher.models import GuildConfig
from matcher.operations.inputs import clean_text
from matcher.store import communities as store
from matcher.store.db import Database

CLEAR = {"-", "none", "clear"}
# GitHub's own limits: an owner has at most 39 characters, a repository name 100.
_REPO = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9_.-]{1,100}$")
MAX_FOCUS = {"repos": 20, "niches": 20}
MAX_NICHE_LENGTH = 40
# the typed text of each list; together with the labels both echo in ~1,600 of Discord's 2,000
MAX_FOCUS_CHARS = {"repos": 1000, "niches": 500}
_UNSET: Any = object()


def parse_focus_list(text: str, *, repos: bool) -> list[str]:
    """Comma- or space-separated repos ('owner/name') or niches; ProfileError for a bad entry.

    Limits keep the echo of both lists within one Discord message (matcher.operations.inputs).
    """
    what = "repos" if repos else "niches"
    cleaned = clean_text(what, text or "", max_length=MAX_FOCUS_CHARS[what])
    items = list(dict.fromkeys(part for part in re.split(r"[,\s]+", cleaned) if part))
    if repos:
        for item in items:
            if not _REPO.match(item):
                raise ProfileError(
                    f"'{item[:60]}' is not a repository: "
                    "use owner/name, e.g. huggingface/transformers"
                )
    else:
        items = list(dict.fromkeys(item.lower() for item in items))
        for item in items:
            if len(item) > MAX_NICHE_LENGTH:
                raise ProfileError(
                    f"niche '{item[:40]}…' is too long ({len(item)} characters; "
                    f"at most {MAX_NICHE_LENGTH})"
                )
    if len(items) > MAX_FOCUS[what]:
        raise ProfileError(f"{what}: at most {MAX_FOCUS[what]} entries, got {len(items)}")
    return items


def get_guild_config(db: Database, guild_id: str | None) -> GuildConfig | None:
    """A community's settings, or None if its admins never set any."""
    return store.get_guild_config(db, guild_id)


def update_guild_config(
    db: Database,
    guild_id: str,
    *,
    digest_channel_id: Any = _UNSET,
    focus_repos: Any = _UNSET,
    focus_niches: Any = _UNSET,
) -> GuildConfig:
    """Change some of a community's settings; pass None for the channel to clear it."""
    changes: dict[str, Any] = {}
    if digest_channel_id is not _UNSET:
        changes["digest_channel_id"] = (
            str(digest_channel_id) if digest_channel_id is not None else None
        )
    if focus_repos is not _UNSET:
        changes["focus_repos"] = list(focus_repos)
    if focus_niches is not _UNSET:
        changes["focus_niches"] = list(focus_niches)
    return store.update_guild_config(db, guild_id, changes)


def set_focus(
    db: Database, guild_id: str, *, repos: str | None, niches: str | None
) -> tuple[GuildConfig | None, bool]:
    """Apply what an admin typed ('-' clears a list); the settings, and whether they changed."""
    changes = {}
    if repos is not None:
        clear = repos.strip().lower() in CLEAR
        changes["focus_repos"] = [] if clear else parse_focus_list(repos, repos=True)
    if niches is not None:
        clear = niches.strip().lower() in CLEAR
        changes["focus_niches"] = [] if clear else parse_focus_list(niches, repos=False)
    if not changes:
        return get_guild_config(db, guild_id), False
    return update_guild_config(db, guild_id, **changes), True
