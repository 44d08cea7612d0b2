"""/profile export and /profile delete (with its confirmation), through the real bot."""

from __future__ import annotations

import json

from matcher.operations.profiles import get_learner
from matcher.store import portfolio as identity_store
from tests.bot.helpers import set_profile


async def test_export_sends_the_learner_a_private_json_file_of_their_rows(world):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel, github="alice-gh")
    await set_profile(bob, channel, skills="rust")
    result = await alice.slash(channel, "profile export")
    assert result.ephemeral
    sent = (result.followups or [result.response])[-1]
    [attachment] = sent.attachments
    assert attachment.filename == f"ml-first-issues-{alice.id}.json"
    exported = json.loads(env.backend.cdn.get(attachment.url))
    assert exported["learner_id"] == str(alice.id)
    assert exported["tables"]["learners"][0]["skills"] == "python, pytorch, tokenizer"
    assert exported["tables"]["github_identities"][0]["login"] == "alice-gh"
    assert str(bob.id) not in json.dumps(exported)


async def test_delete_asks_first_and_cancel_keeps_everything(world):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)
    asked = await alice.slash(channel, "profile delete")
    assert asked.ephemeral and "cannot be undone" in asked.response.content
    assert get_learner(env.bot.db, str(alice.id)) is not None  # nothing yet
    cancelled = await alice.click(asked.response.message, label="Cancel")
    assert "Nothing was deleted" in cancelled.response.content
    assert get_learner(env.bot.db, str(alice.id)) is not None


async def test_delete_confirmed_removes_the_learner_everywhere(world):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel, github="alice-gh")
    await set_profile(bob, channel)
    await alice.slash(channel, "suggest")
    asked = await alice.slash(channel, "profile delete")
    done = await alice.click(asked.response.message, label="Delete everything")
    assert done.response.content.startswith("Deleted ")
    assert get_learner(env.bot.db, str(alice.id)) is None
    assert identity_store.get_identity(env.bot.db, str(alice.id)) is None
    assert get_learner(env.bot.db, str(bob.id)) is not None
    shown = await alice.slash(channel, "profile show")
    assert "no profile yet" in shown.response.content
