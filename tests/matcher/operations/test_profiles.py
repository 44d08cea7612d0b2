"""Profiles through matcher.operations on real SQLite: validation, saving, the digest switch."""

from datetime import UTC, datetime

import pytest

from matcher.errors import ProfileError
from matcher.operations.profiles import (
    clean_profile_update,
    get_learner,
    save_profile,
    set_digest,
    show_profile,
    update_profile,
)
from matcher.store.learners import digest_learners, pop_pending_notice, set_pending_notice
from matcher.store.portfolio import get_identity, mark_verified

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


def test_profile_round_trip_and_validation(db):
    update = clean_profile_update(
        skills="  python,   pytorch ",
        niche="nlp",
        github_login="@Octo-Cat",
        digest_weekday=2,
        digest_hour=18,
        timezone="Europe/Berlin",
    )
    learner = save_profile(db, "42", update, guild_id="7", now=NOW)
    assert learner.skills == "python, pytorch"
    # the login is an unverified link in the identity table, the one home of a GitHub login
    identity = get_identity(db, "42")
    assert identity is not None and (identity.login, identity.verified) == ("Octo-Cat", False)
    assert identity.claim is not None  # it has a code: /github verify can prove it
    assert learner.schedule.describe() == "Wednesdays at 18:00 (Europe/Berlin)"
    assert learner.profile.id == "42" and learner.home_guild_id == "7"
    # A partial update leaves the other fields alone.
    save_profile(db, "42", clean_profile_update(niche="vision"), now=NOW)
    again = get_learner(db, "42")
    assert (again.skills, again.niche, again.timezone) == (
        "python, pytorch",
        "vision",
        "Europe/Berlin",
    )


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"skills": "   "}, "skills cannot be empty"),
        ({"skills": "🚀🔥🤖"}, "skills needs words"),  # regression: emoji alone were accepted
        ({"skills": "-, !?"}, "skills needs words"),
        ({"skills": "x" * 301}, "too long"),
        ({"github_login": "-bad-"}, "not a GitHub login"),
        ({"github_login": "a" * 40}, "not a GitHub login"),
        ({"timezone": "Nowhere/City"}, "unknown time zone"),
        ({"digest_hour": 25}, "hour must be 0-23"),
    ],
)
def test_profile_validation_messages(fields, message):
    with pytest.raises(ProfileError, match=message):
        clean_profile_update(**fields)


def test_skills_in_any_script_are_words():
    assert clean_profile_update(skills="機械学習, pytorch 🚀").skills == "機械学習, pytorch 🚀"


def test_new_profile_needs_skills(db):
    with pytest.raises(ProfileError, match="needs skills"):
        save_profile(db, "1", clean_profile_update(niche="nlp"))


def test_digest_switch_and_notice(db):
    with pytest.raises(ProfileError, match="profile first"):
        set_digest(db, "1", True)
    save_profile(db, "1", clean_profile_update(skills="python"))
    learner = set_digest(db, "1", True, now=NOW)
    assert learner.digest_enabled and learner.digest_since == NOW
    assert [x.learner_id for x in digest_learners(db)] == ["1"]
    set_pending_notice(db, "1", "your digest could not be delivered")
    assert pop_pending_notice(db, "1") == "your digest could not be delivered"
    assert pop_pending_notice(db, "1") is None
    set_digest(db, "1", False)
    assert digest_learners(db) == []


def test_profile_login_is_linked_like_github_link_and_kept_when_set_again(db):
    view = update_profile(db, "1", guild_id=None, now=NOW, skills="python", github_login="ada")
    assert view.link is not None and view.link.login == "ada" and view.link.code
    assert view.identity is not None and view.identity.claim is not None
    code_hash = view.identity.claim.code_hash
    again = update_profile(db, "1", guild_id=None, now=NOW, github_login="@ADA")
    assert again.link is None  # the same login keeps its code (it may already be in a bio)
    assert again.identity is not None and again.identity.claim.code_hash == code_hash
    other = update_profile(db, "1", guild_id=None, now=NOW, github_login="grace")
    assert other.link is not None and other.identity.login == "grace"
    shown = show_profile(db, "1")
    assert shown is not None and shown.identity == other.identity
    update_profile(db, "1", guild_id=None, now=NOW, github_login="")
    assert get_identity(db, "1") is None  # '' removes an unverified link


def test_a_new_profile_without_skills_links_no_login(db):
    with pytest.raises(ProfileError, match="needs skills"):
        update_profile(db, "9", guild_id=None, now=NOW, github_login="ada")
    assert get_identity(db, "9") is None and show_profile(db, "9") is None


def test_a_login_verified_by_another_learner_is_refused_and_nothing_is_saved(db):
    update_profile(db, "1", guild_id=None, now=NOW, skills="python", github_login="ada")
    mark_verified(db, "1", 5150, "ada")
    update_profile(db, "2", guild_id=None, now=NOW, skills="rust")
    with pytest.raises(ProfileError, match="already verified by another learner"):
        update_profile(db, "2", guild_id=None, now=NOW, niche="nlp", github_login="ADA")
    assert get_learner(db, "2").niche == "" and get_identity(db, "2") is None
