"""The one redaction function: secrets never reach a reply, a log line, the CLI or the store.

`redact(text)` replaces with [redacted]:
- every configured secret: the tokens in GITHUB_TOKEN / DISCORD_TOKEN (or their *_FILE), the
  database password (MATCHER_DATABASE_URL, MATCHER_DATABASE_PASSWORD_FILE), and any secret a
  client or the store was built with (`remember_secret`);
- anything shaped like a GitHub token (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_) or a Discord
  bot token, the value of an Authorization header, and the password of a URL (user:pw@host).

Every error text built from a server's answer goes through it before anyone sees it.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

REDACTED = "[redacted]"
# A shorter configured value ("test", "pw") would blank ordinary words everywhere; such a
# password is still scrubbed where it sits in a URL or an Authorization header (by shape).
MIN_SECRET_LENGTH = 6
_ENV_SECRETS = ("GITHUB_TOKEN", "DISCORD_TOKEN")
_ENV_SECRET_FILES = ("GITHUB_TOKEN_FILE", "DISCORD_TOKEN_FILE", "MATCHER_DATABASE_PASSWORD_FILE")
_ENV_URLS = ("MATCHER_DATABASE_URL", "DATABASE_URL")

_GITHUB_TOKEN = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{20,})")
_DISCORD_TOKEN = re.compile(r"[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}")
# "Authorization: bearer X", "'authorization': 'token X'", "authorization=Basic X"
_AUTHORIZATION = re.compile(
    r"""(authorization['"]?\s*[:=]\s*['"]?)((?:bearer|token|basic|bot)\s+)?[^\s'",;}]+""",
    re.IGNORECASE,
)
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+(@)", re.IGNORECASE)

_remembered: set[str] = set()
_lock = threading.Lock()


def remember_secret(value: str | None) -> None:
    """Scrub `value` from every later text (a token a client was built with, a password)."""
    if value and len(value.strip()) >= MIN_SECRET_LENGTH:
        with _lock:
            _remembered.add(value.strip())


def configured_secrets() -> list[str]:
    """Every secret known now: remembered ones and those the environment configures."""
    found = set(_remembered)
    for name in _ENV_SECRETS:
        found.add(os.environ.get(name, "").strip().removeprefix("Bot ").strip())
    for name in _ENV_SECRET_FILES:
        found.add(_file_secret(os.environ.get(name)))
    for name in _ENV_URLS:
        found.add(url_password(os.environ.get(name, "")) or "")
    # longest first, so a secret containing another is replaced whole
    return sorted((s for s in found if len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def url_password(url: str) -> str | None:
    """The password of a URL such as postgresql://user:pw@host/db, if it has one."""
    try:
        return urlsplit(url).password if "://" in url else None
    except ValueError:
        return None


def redact(text: object, extra: Iterable[str] = ()) -> str:
    """`text` with every configured secret (and `extra`) and every token-shaped word removed."""
    out = str(text) if text is not None else ""
    for secret in [*sorted((e for e in extra if e), key=len, reverse=True), *configured_secrets()]:
        out = out.replace(secret, REDACTED)
    out = _AUTHORIZATION.sub(lambda m: m.group(1) + (m.group(2) or "") + REDACTED, out)
    out = _URL_PASSWORD.sub(lambda m: m.group(1) + REDACTED + m.group(2), out)
    out = _GITHUB_TOKEN.sub(REDACTED, out)
    return _DISCORD_TOKEN.sub(REDACTED, out)


def redact_optional(text: str | None) -> str | None:
    """redact() that keeps None as None (an optional column such as last_error)."""
    return None if text is None else redact(text)


class RedactingFilter(logging.Filter):
    """A log filter that passes every record's message, traceback and stack through redact()."""

    def __init__(self, extra: Iterable[str] = ()):
        super().__init__()
        self.extra = [s for s in extra if s]

    def clean(self, text: str) -> str:
        return redact(text, self.extra)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self.clean(message), None
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info)
        return True


@lru_cache(maxsize=16)  # a token file is read once, not at every log record
def _file_secret(path: str | None) -> str:
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8").strip().removeprefix("Bot ").strip()
    except (OSError, UnicodeDecodeError):
        return ""
