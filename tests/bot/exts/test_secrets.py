"""GitHub behind a front that echoes the Authorization header: the token reaches neither the
ephemeral reply to /github link nor the bot's log (refresh loop), with no log filter installed:
the error texts are clean at their source."""

from __future__ import annotations

import logging

import pytest

from matcher import redact as redaction
from matcher.github.pulls import PullsClient, make_github
from matcher.store import portfolio as identity_store
from tests.bot.conftest import make_bot
from tests.fakes.github_echo import REST_SHAPES, echo_authorization


@pytest.fixture(autouse=True)
def forget_remembered(monkeypatch):
    monkeypatch.setattr(redaction, "_remembered", set())
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)


@pytest.fixture
def simcord_bot(db_url, bot_settings, settings, echo_gh, echo_token):
    def client() -> PullsClient:
        return PullsClient(make_github(echo_gh.url, echo_token, retries=1, timeout=5))

    bot = make_bot(
        db_url, bot_settings, settings, pulls_client_factory=client, portfolio_refresh_seconds=3600
    )
    yield bot
    bot.db.close()


@pytest.mark.parametrize("shape", REST_SHAPES)
async def test_github_link_reply_and_refresh_log_never_hold_the_token(
    world, echo_gh, echo_token, shape, caplog
):
    env, guild, channel, admin, alice, bob = world
    caplog.set_level(logging.INFO)
    echo_authorization(echo_gh, shape)
    linked = await alice.slash(channel, "github link", login="ada")
    reply = (linked.followups or [linked.response])[-1].content
    assert linked.ephemeral and "mfi-verify-" not in reply  # no code issued
    assert echo_token not in reply and echo_token[:12] not in reply

    # a verified learner: the refresh loop's failure is logged
    identity_store.save_claim(env.bot.db, str(bob.id), "bob-gh", "0" * 64, None)
    identity_store.mark_verified(env.bot.db, str(bob.id), 4242, "bob-gh")
    await env.advance_time(3601)
    assert "portfolio refresh" in caplog.text
    assert echo_token not in caplog.text and echo_token[:12] not in caplog.text


async def test_a_lookup_answer_that_is_no_user_issues_no_code(world, echo_gh):
    env, guild, channel, admin, alice, bob = world
    echo_gh.add_route("GET", r"^/users/garbage$", lambda req: (200, {"login": "garbage"}))
    linked = await alice.slash(channel, "github link", login="garbage")
    reply = (linked.followups or [linked.response])[-1].content
    assert "no numeric user id" in reply and "mfi-verify-" not in reply
    assert identity_store.get_identity(env.bot.db, str(alice.id)) is None
