"""Linking and verifying a GitHub login: only the right code, in the bio or a gist, verifies it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from matcher import portfolio as lib
from matcher.errors import GitHubNotFoundError, IdentityError, VerificationError
from matcher.github.identity import CODE_PATTERN, hash_code, new_code
from matcher.store import portfolio as store
from tests.portfolio.conftest import ADA_ID


def test_codes_are_random_and_stored_only_as_hashes(db, fake, client):
    codes = {new_code() for _ in range(50)}
    assert len(codes) == 50 and all(CODE_PATTERN.fullmatch(c) for c in codes)
    result = lib.link(db, "L1", "ada", client)
    identity = store.get_identity(db, "L1")
    assert identity.code_hash == hash_code(result.code) and result.code not in identity.code_hash
    assert not identity.verified
    assert result.code in result.instructions and "gist" in result.instructions


def test_right_code_in_bio_verifies(db, fake, client):
    code = lib.link(db, "L1", "ada", client).code
    fake.set_bio("ada", f"ML learner. {code}")
    identity = lib.verify(db, client, "ada")
    assert identity.verified and identity.github_id == ADA_ID and identity.learner_id == "L1"
    assert store.verified_identity(db, "ADA").learner_id == "L1"  # logins ignore case


def test_right_code_in_a_gist_verifies(db, fake, client):
    code = lib.link(db, "L1", "ada", client).code
    fake.add_gist("ada", "unrelated notes")
    fake.add_gist("ada", f"verifying my ML portfolio: {code}\n")
    assert lib.verify(db, client, "ada").verified


def test_wrong_code_does_not_verify(db, fake, client):
    lib.link(db, "L1", "ada", client)
    fake.set_bio("ada", f"here is a code: {new_code()}")
    fake.add_gist("ada", new_code(), description="another guess")
    with pytest.raises(VerificationError, match="not the one issued"):
        lib.verify(db, client, "ada")
    assert not store.get_identity(db, "L1").verified


def test_no_code_at_all(db, fake, client):
    lib.link(db, "L1", "ada", client)
    with pytest.raises(VerificationError, match="no verification code found"):
        lib.verify(db, client, "ada")


def test_expired_code_does_not_verify(db, fake, client):
    code = lib.link(db, "L1", "ada", client).code
    store.save_claim(db, "L1", "ada", hash_code(code), datetime.now(UTC) - timedelta(minutes=1))
    fake.set_bio("ada", code)
    with pytest.raises(VerificationError, match="expired"):
        lib.verify(db, client, "ada")


def test_one_login_belongs_to_one_learner(db, fake, client):
    squatter = lib.link(db, "L2", "ada", client).code  # someone else claims first; never proves it
    code = lib.link(db, "L1", "ada", client).code
    fake.set_bio("ada", code)
    assert lib.verify(db, client, "ada").learner_id == "L1"
    assert store.get_identity(db, "L2") is None  # the pending rival claim is dropped
    with pytest.raises(IdentityError, match="already verified by another learner"):
        lib.link(db, "L2", "ada", client)
    assert squatter != code


def test_unknown_or_malformed_login(db, fake, client):
    with pytest.raises(GitHubNotFoundError, match="no user 'ghost-user'"):
        lib.link(db, "L1", "ghost-user", client)
    with pytest.raises(IdentityError, match="not a GitHub login"):
        lib.link(db, "L1", "bad login!", client)
    with pytest.raises(IdentityError, match="no learner has linked"):
        lib.verify(db, client, "ada")


def test_unverified_refresh_is_not_attributed(db, fake, client):
    lib.link(db, "L1", "ada", client)
    report = lib.refresh(db, client, "ada")
    assert len(report.added) == 2 and report.attributed == []
    assert not lib.load_summary(db, "ada", niches_of=lambda r: ()).verified


def test_linking_an_already_verified_login_again_keeps_it_verified(db, fake, client):
    code = lib.link(db, "L1", "ada", client).code
    fake.set_bio("ada", code)
    lib.verify(db, client, "ada")
    fake.set_bio("ada", "code removed once verified, as told")
    with pytest.raises(IdentityError, match="already verified for learner L1"):
        lib.link(db, "L1", "Ada", client)
    identity = store.get_identity(db, "L1")
    assert identity.verified and identity.github_id == ADA_ID
    assert lib.verify(db, client, "ada").verified


def test_a_login_set_in_the_profile_is_verified_like_a_linked_one(db, gh, fake, client):
    """/profile set github: links through the same function as /github link: its code proves it."""
    from matcher.operations.profiles import show_profile, update_profile

    now = datetime.now(UTC)
    view = update_profile(db, "L1", guild_id=None, now=now, skills="python", github_login="ada")
    assert view.link is not None and not view.identity.verified
    fake.set_bio("ada", f"hi {view.link.code}")
    identity = lib.verify(db, client, "ada", "L1")
    assert identity.verified and show_profile(db, "L1").identity.verified
