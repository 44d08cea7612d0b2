"""Linking another login keeps the verified one until the new one is verified, then replaces it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from matcher import portfolio as lib
from matcher.cli import app
from matcher.errors import IdentityError, VerificationError
from matcher.github.identity import hash_code, new_code
from matcher.operations.suggestions import record_suggestions
from matcher.render.json import summary_dict
from matcher.store import Database
from matcher.store import portfolio as store
from tests.portfolio.conftest import ADA_ID, when

NEW_ID = 6160
VISION_5 = "https://github.com/acme/vision/issues/5"


def _no_niches(repo):
    return ()


@pytest.fixture
def ada_verified(db, fake, client):
    """L1 has verified ada (two merges stored); GitHub also knows ada-new, with one merge."""
    fake.add_user("ada-new", NEW_ID, bio="new account")
    fake.add_pull("acme/vision", "ada-new", "Faster resize", merged_at=when(20), number=40)
    code = lib.link(db, "L1", "ada", client).code
    fake.set_bio("ada", code)
    lib.verify(db, client, "ada")
    lib.refresh(db, client, "ada")
    fake.set_bio("ada", "code removed")
    return db


def _assert_ada_still_verified(db):
    identity = store.get_identity(db, "L1")
    assert identity.verified and identity.login == "ada" and identity.github_id == ADA_ID
    assert store.verified_identity(db, "ada").learner_id == "L1"
    assert [i.login for i in store.verified_identities(db) if i.learner_id == "L1"] == ["ada"]
    summary = lib.load_summary(db, "ada", niches_of=_no_niches)
    assert summary.verified and summary.merged == 2


def test_relinking_keeps_the_verified_login_until_the_new_one_is_verified(ada_verified, client):
    db = ada_verified
    result = lib.link(db, "L1", "ada-new", client)
    assert "ada stays linked until ada-new is verified" in result.instructions
    _assert_ada_still_verified(db)
    identity = store.get_identity(db, "L1")
    assert identity.pending_login == "ada-new"
    assert identity.pending_code_hash == hash_code(result.code)
    assert identity.pending_expires_at == result.expires_at
    assert [c.learner_id for c in store.claims_for_login(db, "ada-new")] == ["L1"]
    summary = lib.load_summary(db, "ada", niches_of=_no_niches)
    assert (
        summary.pending_login == "ada-new" and summary_dict(summary)["pending_login"] == "ada-new"
    )
    new = lib.load_summary(db, "ada-new", niches_of=_no_niches)  # the pending login: not evidence
    assert not new.verified and new.merged == 0


def test_verifying_the_new_login_replaces_the_old_one(ada_verified, fake, client):
    db = ada_verified
    record_suggestions(db, "L1", [VISION_5], via="suggest", now=when(1))
    lib.refresh(db, client, "ada")
    assert lib.load_summary(db, "ada", niches_of=_no_niches).funnel.merged == 1

    code = lib.link(db, "L1", "ada-new", client).code
    fake.set_bio("ada-new", f"hello {code}")
    identity = lib.verify(db, client, "ada-new", "L1")
    assert identity.verified and identity.login == "ada-new" and identity.github_id == NEW_ID
    assert identity.pending_login is None and identity.code_hash is None
    assert store.get_identity(db, "L1") == identity
    assert store.verified_identity(db, "ada") is None
    assert [i.login for i in store.verified_identities(db)] == ["ada-new"]

    lib.refresh(db, client, "ada-new")
    new = lib.load_summary(db, "ada-new", niches_of=_no_niches)
    assert new.verified and new.merged == 1 and new.pending_login is None
    assert new.funnel.merged == 0  # ada's merge of the suggestion is not ada-new's evidence
    old = lib.load_summary(db, "ada", niches_of=_no_niches)  # kept in the store, not evidence
    assert not old.verified and old.merged == 2 and old.funnel is None
    assert len(store.load_contributions(db, author_id=ADA_ID)) == 2


def test_wrong_code_keeps_the_verified_login(ada_verified, fake, client):
    db = ada_verified
    lib.link(db, "L1", "ada-new", client)
    fake.set_bio("ada-new", f"guess {new_code()}")
    with pytest.raises(VerificationError, match="not the one issued"):
        lib.verify(db, client, "ada-new", "L1")
    _assert_ada_still_verified(db)
    assert store.get_identity(db, "L1").pending_login == "ada-new"  # can still be retried


def test_expired_code_keeps_the_verified_login(ada_verified, fake, client):
    db = ada_verified
    code = lib.link(db, "L1", "ada-new", client).code
    store.save_claim(db, "L1", "ada-new", hash_code(code), datetime.now(UTC) - timedelta(minutes=1))
    fake.set_bio("ada-new", code)
    with pytest.raises(VerificationError, match="expired"):
        lib.verify(db, client, "ada-new")
    _assert_ada_still_verified(db)


def test_a_newer_link_replaces_the_pending_claim_only(ada_verified, fake, client):
    db = ada_verified
    fake.add_user("ada-third", 7170)
    first = lib.link(db, "L1", "ada-new", client).code
    lib.link(db, "L1", "ada-third", client)
    assert store.claims_for_login(db, "ada-new") == []
    fake.set_bio("ada-new", first)
    with pytest.raises(IdentityError, match="no learner has linked"):
        lib.verify(db, client, "ada-new")
    _assert_ada_still_verified(db)
    assert store.get_identity(db, "L1").pending_login == "ada-third"


def test_another_learner_cannot_take_a_verified_login(ada_verified, fake, client):
    db = ada_verified
    lib.link(db, "L1", "ada-new", client)  # pending: ada is still L1's
    with pytest.raises(IdentityError, match="already verified by another learner"):
        lib.link(db, "L2", "ada", client)
    store.save_claim(db, "L2", "ada", "0" * 64, datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(IdentityError, match="already verified by another learner"):
        store.mark_verified(db, "L2", ADA_ID, "ada")
    _assert_ada_still_verified(db)
    assert not store.get_identity(db, "L2").verified


def test_someone_else_verifying_the_pending_login_drops_the_claim(ada_verified, fake, client):
    db = ada_verified
    lib.link(db, "L1", "ada-new", client)
    code = lib.link(db, "L2", "ada-new", client).code
    fake.set_bio("ada-new", code)
    assert lib.verify(db, client, "ada-new", "L2").learner_id == "L2"
    assert store.get_identity(db, "L1").pending_login is None  # L1's pending claim is dropped
    _assert_ada_still_verified(db)
    with pytest.raises(IdentityError, match="already verified by another learner"):
        lib.link(db, "L1", "ada-new", client)


def test_cli_show_and_verify_mention_the_pending_login(tmp_path, gh, fake, client, monkeypatch):
    path = tmp_path / "store.sqlite"
    db = Database(f"sqlite:///{path}")
    fake.add_user("ada-new", NEW_ID)
    code = lib.link(db, "L1", "ada", client).code
    fake.set_bio("ada", code)
    lib.verify(db, client, "ada")
    code = lib.link(db, "L1", "ada-new", client).code
    db.close()

    runner = CliRunner()
    shown = runner.invoke(app, ["--db", str(path), "portfolio", "show", "ada"])
    assert shown.exit_code == 0, shown.output
    assert "verified" in shown.stdout and "UNVERIFIED" not in shown.stdout
    assert "@ada-new linked, not yet verified" in " ".join(shown.stdout.split())

    from matcher.cli import portfolio as cli

    monkeypatch.setattr(cli, "_client", lambda settings: client)
    fake.set_bio("ada-new", code)
    verified = runner.invoke(app, ["--db", str(path), "portfolio", "verify", "ada-new"])
    assert verified.exit_code == 0, verified.output
    assert "ada-new verified for learner L1 (replaces ada)" in verified.stdout
