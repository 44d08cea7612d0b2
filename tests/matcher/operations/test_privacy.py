"""A learner's export holds every row about them; their delete leaves no row naming them in any
table (every table dumped through the inspector, so tables added later are covered too).
Runs on SQLite and, with MATCHER_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import inspect, text

from matcher.errors import ProfileError
from matcher.github.identity import hash_code
from matcher.models import Attribution, Contribution
from matcher.operations.privacy import delete_learner_data, export_learner, export_learner_json
from matcher.operations.profiles import leave_notice, update_profile
from matcher.store import digests as digest_store
from matcher.store import portfolio as identity_store
from matcher.store import suggestions as suggestion_store
from matcher.store.issues import upsert_issues
from tests.conftest import NOW, make_issue

ADA, ADA_LOGIN, ADA_GITHUB_ID = "880000000000000001", "Ada-Lovelace", 770001
BOB, BOB_LOGIN, BOB_GITHUB_ID = "990000000000000002", "bob-builder", 770002
GUILD = "123450000000000009"


def _issue_url(n: int) -> str:
    return f"https://github.com/acme/lib/issues/{n}"


def _learner_everywhere(db, learner_id: str, login: str, github_id: int, pull: int) -> None:
    """A learner with a row in every table a learner can reach: profile, suggestions and their
    answers, a claim, a digest, a verified identity, merged work, an attribution, a watermark."""
    update_profile(db, learner_id, guild_id=GUILD, now=NOW, skills="python, nlp", niche="nlp")
    suggestion_store.record_suggestions(
        db, learner_id, [_issue_url(1), _issue_url(2)], via="suggest", guild_id=GUILD, now=NOW
    )
    suggestion_store.set_suggestion_status(
        db, learner_id, _issue_url(1), "working", guild_id=GUILD, now=NOW
    )
    suggestion_store.take_issue_claim(
        db, GUILD, _issue_url(pull), learner_id, now=NOW, after=NOW - timedelta(days=30)
    )
    digest_store.reserve_digest(db, learner_id, "2026-W44", now=NOW)
    digest_store.finish_digest(db, learner_id, "2026-W44", "dm", detail=f"sent to {learner_id}")
    identity_store.save_claim(db, learner_id, login, hash_code("mfi-verify-x"), NOW + timedelta(1))
    identity_store.mark_verified(db, learner_id, github_id, login)
    url = f"https://github.com/acme/lib/pull/{pull}"
    identity_store.add_contributions(
        db,
        [
            Contribution(
                url=url,
                repo="acme/lib",
                number=pull,
                title="Fix the tokenizer",
                merged_at=NOW + timedelta(days=2),
                author_id=github_id,
                author_login=login.lower(),
                closes=(_issue_url(1),),
            )
        ],
    )
    identity_store.add_attribution(
        db, Attribution(url, learner_id, _issue_url(1), NOW, NOW + timedelta(days=2))
    )
    identity_store.set_watermark(
        db, identity_store.author_key(github_id, login), login, NOW + timedelta(days=2)
    )
    leave_notice(db, learner_id, "your digest could not be delivered")


@pytest.fixture
def two_learners(db):
    upsert_issues(db, [make_issue(n, f"Issue {n}") for n in (1, 2, 3, 4)])
    _learner_everywhere(db, ADA, ADA_LOGIN, ADA_GITHUB_ID, 3)
    _learner_everywhere(db, BOB, BOB_LOGIN, BOB_GITHUB_ID, 4)
    return db


def dump_every_table(db) -> dict[str, list[str]]:
    """Every row of every table in the store, as text."""
    names = inspect(db.engine).get_table_names()
    with db.engine.connect() as connection:
        return {
            name: [repr(tuple(row)) for row in connection.execute(text(f'SELECT * FROM "{name}"'))]
            for name in names
        }


def _naming(dump: dict[str, list[str]], *needles: str) -> dict[str, list[str]]:
    lowered = [n.lower() for n in needles]
    return {
        table: hits
        for table, rows in dump.items()
        if (hits := [r for r in rows if any(n in r.lower() for n in lowered)])
    }


def test_delete_leaves_no_row_naming_the_learner_in_any_table(two_learners):
    db = two_learners
    before = _naming(dump_every_table(db), ADA, ADA_LOGIN, str(ADA_GITHUB_ID))
    expected = {
        "learners",
        "suggestions",
        "claims",
        "digest_deliveries",
        "github_identities",
        "contributions",
        "contribution_attributions",
        "portfolio_watermarks",
    }
    assert expected <= set(before), sorted(before)  # the learner really was everywhere

    report = delete_learner_data(db, ADA)

    after = dump_every_table(db)
    assert _naming(after, ADA, ADA_LOGIN, str(ADA_GITHUB_ID)) == {}
    assert report.total >= len(expected) and set(report.rows) >= expected
    # the other learner keeps every row of theirs
    assert set(_naming(after, BOB, BOB_LOGIN)) >= expected
    assert "Deleted" in report.message


def test_delete_twice_says_nothing_was_left(two_learners):
    delete_learner_data(two_learners, ADA)
    again = delete_learner_data(two_learners, ADA)
    assert again.rows == {} and again.message.startswith("Nothing was stored")


def test_export_holds_every_row_about_the_learner_and_none_of_another(two_learners):
    exported = export_learner(two_learners, ADA, now=NOW)
    tables = exported["tables"]
    assert {
        "learners",
        "suggestions",
        "claims",
        "digest_deliveries",
        "github_identities",
        "contributions",
        "contribution_attributions",
        "portfolio_watermarks",
    } <= set(tables)
    assert tables["learners"][0]["skills"] == "python, nlp"
    assert tables["learners"][0]["pending_notice"] == "your digest could not be delivered"
    assert {s["status"] for s in tables["suggestions"]} == {"working", "suggested"}
    assert tables["github_identities"][0]["login"] == ADA_LOGIN
    assert exported["github_logins"] == [ADA_LOGIN.lower()]
    text_ = export_learner_json(two_learners, ADA, now=NOW)
    assert json.loads(text_) == exported
    assert BOB not in text_ and BOB_LOGIN not in text_


def test_a_login_verified_by_someone_else_keeps_its_portfolio(db):
    """Ada once claimed bob's login (never proven): deleting Ada leaves Bob's merged work."""
    upsert_issues(db, [make_issue(n, f"Issue {n}") for n in (1, 2, 3, 4)])
    _learner_everywhere(db, BOB, BOB_LOGIN, BOB_GITHUB_ID, 4)
    update_profile(db, ADA, guild_id=GUILD, now=NOW, skills="python")
    identity_store.save_claim(db, ADA, "someone-new", hash_code("c"), NOW + timedelta(days=1))
    with db.session() as session:  # an old unproven claim to bob's login, as revision 0003 left
        row = session.get(identity_store.IdentityRow, ADA)
        row.login, row.login_key = BOB_LOGIN, BOB_LOGIN
    delete_learner_data(db, ADA)
    dump = dump_every_table(db)
    assert _naming(dump, ADA) == {}
    assert len(_naming(dump, BOB_LOGIN)["contributions"]) == 1


def test_a_learner_id_that_is_no_id_is_one_line(db):
    with pytest.raises(ProfileError, match="is not a learner id"):
        delete_learner_data(db, "  ")
