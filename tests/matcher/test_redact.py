"""matcher.redact: one function scrubs configured secrets and token-shaped words."""

from __future__ import annotations

import logging

import pytest

from matcher import redact as redaction
from matcher.redact import REDACTED, RedactingFilter, redact, remember_secret

SHAPED = {
    "classic": "ghp_" + "A1b2C3d4" * 4 + "Zz9x",
    "oauth": "gho_" + "q" * 36,
    "user-to-server": "ghu_" + "7" * 36,
    "server-to-server": "ghs_" + "Ab" * 18,
    "refresh": "ghr_" + "x1" * 38,
    "fine-grained": "github_pat_11ABCDEFG0" + "a" * 60,
    "discord": "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123",
}


@pytest.fixture(autouse=True)
def forget_remembered(monkeypatch):
    """Each test starts knowing no secret but what it sets."""
    monkeypatch.setattr(redaction, "_remembered", set())
    for name in ("GITHUB_TOKEN", "DISCORD_TOKEN", "MATCHER_DATABASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("GITHUB_TOKEN_FILE", "DISCORD_TOKEN_FILE", "MATCHER_DATABASE_PASSWORD_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("kind", sorted(SHAPED))
def test_token_shapes_are_scrubbed_without_being_configured(kind):
    token = SHAPED[kind]
    text = redact(f"GitHub said: bad token {token}, try again")
    assert token not in text and f"bad token {REDACTED}, try again" in text


@pytest.mark.parametrize(
    "said",
    [
        "Authorization: bearer s3cr3t-value-1",
        "{'Authorization': 'token s3cr3t-value-1'}",
        '"authorization":"Basic s3cr3t-value-1"',
        "authorization=s3cr3t-value-1",
    ],
)
def test_authorization_header_values_are_scrubbed(said):
    text = redact(f"proxy refused ({said})")
    assert "s3cr3t-value-1" not in text and REDACTED in text


def test_configured_secrets_from_the_environment_and_files(monkeypatch, tmp_path):
    monkeypatch.setenv("GITHUB_TOKEN", "plain-enterprise-token-77")
    secret_file = tmp_path / "discord"
    secret_file.write_text("Bot another-secret-from-a-file\n")
    monkeypatch.setenv("DISCORD_TOKEN_FILE", str(secret_file))
    monkeypatch.setenv("MATCHER_DATABASE_URL", "postgresql://bot:hunter2hunter2@db/matcher")
    text = redact(
        "plain-enterprise-token-77 / another-secret-from-a-file / password hunter2hunter2"
    )
    assert text == f"{REDACTED} / {REDACTED} / password {REDACTED}"


def test_remembered_secrets_and_extra_ones():
    remember_secret("client-built-with-this-1")
    remember_secret("short")  # too short to scrub by value: it would blank ordinary words
    assert redact("a client-built-with-this-1 b") == f"a {REDACTED} b"
    assert redact("short words stay") == "short words stay"
    assert redact("one-off-secret-99 here", ["one-off-secret-99"]) == f"{REDACTED} here"


def test_url_passwords_of_any_length_are_scrubbed():
    text = redact("cannot open postgresql+psycopg://bot:pw@db.internal:5432/matcher")
    assert text == f"cannot open postgresql+psycopg://bot:{REDACTED}@db.internal:5432/matcher"


def test_ordinary_text_is_left_alone():
    text = "GitHub answered HTTP 502 for repository huggingface/transformers: Bad Gateway"
    assert redact(text) == text
    assert redact(None) == ""


def test_the_log_filter_scrubs_message_arguments_and_tracebacks():
    token = SHAPED["classic"]
    try:
        raise RuntimeError(f"boom {token}")
    except RuntimeError as exc:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed with %s", (token,), (RuntimeError, exc, None)
        )
    RedactingFilter().filter(record)
    assert token not in record.getMessage() and token not in (record.exc_text or "")
    assert "boom [redacted]" in (record.exc_text or "")
