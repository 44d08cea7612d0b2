"""Text people type, made the same on every store and short enough to echo back on Discord.

`clean_text` is the one normalisation of profile and community-setting text: Unicode NFC, control
and format characters removed (zero-width spaces, bidi overrides: "py\u200bthon" is "python"),
whitespace collapsed. A NUL is refused with a one-line reason (PostgreSQL cannot store it, SQLite
can: the stores would differ), and so is text with nothing left after cleaning. `fit_list` cuts a
list for a reply with "+N more" so that a message never passes Discord's 2,000 characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from matcher.errors import ProfileError

DISCORD_MESSAGE_LIMIT = 2000
# Cc: controls (NUL, ESC, ...), Cf: format (zero-width, bidi overrides, soft hyphen),
# Cs: lone surrogates (not UTF-8 at all).
_INVISIBLE = {"Cc", "Cf", "Cs"}


def clean_text(name: str, value: str, *, max_length: int, max_items: int | None = None) -> str:
    """`value` normalised (see the module docstring); ProfileError saying what to fix otherwise.

    An empty or blank value stays "" (it clears an optional field); `max_items` counts the
    comma-separated parts.
    """
    if "\x00" in value:
        raise ProfileError(f"{name} contains a NUL character (\\x00); type it again without it")
    text = " ".join(_visible(unicodedata.normalize("NFC", value)).split())
    if not text and value.strip():
        raise ProfileError(
            f"{name} has nothing left once invisible characters (zero-width spaces, "
            "direction marks, control characters) are removed; type it again"
        )
    if len(text) > max_length:
        raise ProfileError(f"{name} is too long ({len(text)} characters; at most {max_length})")
    if max_items is not None:
        count = len(split_items(text))
        if count > max_items:
            raise ProfileError(f"{name} lists {count} entries; at most {max_items}")
    return text


def _visible(text: str) -> str:
    return "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE
    )


def split_items(text: str) -> list[str]:
    """The non-empty comma-separated parts of a cleaned text."""
    return [part.strip() for part in text.split(",") if part.strip()]


def fit_list(items: Sequence[str], budget: int, *, empty: str = "all") -> str:
    """'a, b, c +4 more': as many items as fit in `budget` characters, the rest counted."""
    if not items:
        return empty
    shown: list[str] = []
    for n, item in enumerate(items):
        rest = len(items) - n - 1
        tail = f" +{rest} more" if rest else ""
        candidate = ", ".join([*shown, item])
        if len(candidate) + len(tail) <= budget:
            shown.append(item)
            continue
        hidden = len(items) - len(shown)
        return (", ".join(shown) + f" +{hidden} more").strip()
    return ", ".join(shown)
