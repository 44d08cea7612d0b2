"""One error handler: short private message for the user, detail in the log, never the token."""

import logging

import pytest

from bot.common import SecretFilter
from bot.exts.error_handler import user_message
from matcher.errors import ProfileError, StoreError
from tests.bot.helpers import set_profile

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123"


@pytest.fixture
def redacted_caplog(caplog):
    caplog.handler.addFilter(SecretFilter([TOKEN]))
    caplog.set_level(logging.INFO)
    return caplog


async def test_unexpected_command_error(world, redacted_caplog):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)

    def broken(*args, **kwargs):
        raise RuntimeError(f"engine exploded while holding {TOKEN}")

    env.bot.engine.match = broken
    result = await alice.slash(channel, "suggest")
    assert result.ephemeral
    assert result.response.content.startswith(
        "Something went wrong on my side; it has been logged. (reference "
    )
    assert "exploded" not in result.response.content
    record = next(r for r in redacted_caplog.records if r.name == "bot.exts.error_handler")
    assert "/suggest" in record.getMessage() and "RuntimeError" in record.getMessage()
    assert "engine exploded" in redacted_caplog.text  # the detail is logged ...
    assert TOKEN not in redacted_caplog.text  # ... the token is not
    assert "[redacted]" in redacted_caplog.text


async def test_view_errors_go_through_the_same_handler(world, redacted_caplog, monkeypatch):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)
    result = await alice.slash(channel, "suggest")

    def broken(*args, **kwargs):
        raise RuntimeError("store fell over")

    monkeypatch.setattr("matcher.operations.answers.set_status", broken)
    click = await alice.click(result.response.message, label="Interested #1")
    assert click.ephemeral and click.response.content.startswith("Something went wrong on my side")
    assert "match:interested:" in redacted_caplog.text and "store fell over" in redacted_caplog.text


def test_order_of_messages():
    from discord import app_commands

    assert user_message(ProfileError("skills cannot be empty")) == ("skills cannot be empty", False)
    assert user_message(StoreError("cannot open the store"))[1] is True  # ours, not the user's
    assert (
        user_message(app_commands.MissingPermissions(["manage_guild"]))[0]
        == "You need the Manage Server permission for this."
    )
    assert (
        user_message(app_commands.NoPrivateMessage())[0] == "This command works only in a server."
    )
    wrapped = app_commands.CommandInvokeError.__new__(app_commands.CommandInvokeError)
    wrapped.original = ProfileError("bad hour")
    assert user_message(wrapped) == ("bad hour", False)


def test_secret_filter_redacts_token_shapes_even_when_unknown():
    f = SecretFilter([])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token is %s", (TOKEN,), None)
    f.filter(record)
    assert TOKEN not in record.getMessage() and "[redacted]" in record.getMessage()


def test_interaction_tokens_are_redacted():
    import logging

    secret = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDp0b2tlbi10ZXh0LWhlcmU"
    record = logging.LogRecord(
        "discord.gateway",
        logging.DEBUG,
        __file__,
        1,
        "payload %s then POST /webhooks/123456/%s/messages/@original and "
        "/interactions/987/%s/callback",
        ({"type": 2, "token": secret}, secret, secret),
        None,
    )
    SecretFilter([]).filter(record)
    text = record.getMessage()
    assert secret not in text and text.count("[redacted]") == 3
    assert "/webhooks/123456/[redacted]/messages" in text
