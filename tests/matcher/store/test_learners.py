"""The learner store on real SQLite: profiles, feedback, claims and exactly-once digests."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from matcher.errors import ProfileError
from matcher.operations.answers import set_status
from matcher.operations.communities import get_guild_config, parse_focus_list, update_guild_config
from matcher.operations.profiles import clean_profile_update, get_learner, save_profile, set_digest
from matcher.operations.suggestions import (
    CLAIM_TTL,
    feedback_for,
    record_suggestions,
    suggestions_for,
)
from matcher.store import Database
from matcher.store.digests import deliveries, finish_digest, last_digest_weeks, release_digest
from matcher.store.digests import reserve_digest as claim_digest
from matcher.store.issue_keys import issue_key, register_issue_keys, url_for_key
from matcher.store.learners import digest_learners, pop_pending_notice, set_pending_notice
from matcher.store.meta import get_meta, set_meta

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)
A = "https://github.com/o/r/issues/1"
B = "https://github.com/o/r/issues/2"
C = "https://github.com/o/r/issues/3"


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'store.sqlite'}")
    yield database
    database.close()


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
    assert learner.github_login == "Octo-Cat"
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


def test_issue_keys_are_short_and_stable(db):
    keys = register_issue_keys(db, [A, B])
    register_issue_keys(db, [A])  # idempotent
    assert keys[A] == issue_key(A) and len(keys[A]) == 16
    assert url_for_key(db, keys[B]) == B
    assert url_for_key(db, "0" * 16) is None
    assert len(f"match:working:{keys[A]}") <= 100


def test_feedback_from_statuses(db):
    record_suggestions(db, "1", [A, B, C], via="suggest", guild_id="g", now=NOW)
    set_status(db, "1", A, "dismissed", guild_id="g", now=NOW)
    set_status(db, "1", B, "interested", guild_id="g", now=NOW)
    fb = feedback_for(db, "1", "g", now=NOW)
    assert fb.dismissed == {A} and fb.liked == {B} and fb.hidden == frozenset()
    # For a digest, everything already shown is hidden (dismissed stays dismissed).
    digest_fb = feedback_for(db, "1", "g", for_digest=True, now=NOW)
    assert digest_fb.hidden == {B, C}
    # Suggestions keep their first showing; the portfolio reads these fields.
    rows = {s.issue_url: s for s in suggestions_for(db, "1")}
    assert (
        rows[A].status == "dismissed" and rows[C].via == "suggest" and rows[C].suggested_at == NOW
    )


def test_seen_in_digest_is_hidden_from_suggest(db):
    record_suggestions(db, "1", [A], via="digest", now=NOW)
    record_suggestions(db, "1", [A, B], via="suggest", now=NOW)
    assert feedback_for(db, "1", None).hidden == {A}


def test_a_claim_hides_the_issue_from_the_rest_of_the_community(db):
    assert set_status(db, "alice", A, "working", guild_id="g", now=NOW) is None
    assert A in feedback_for(db, "bob", "g", now=NOW).hidden
    assert A not in feedback_for(db, "bob", "other-guild", now=NOW).hidden
    # Alice is not hidden from herself by her own claim, but her working issue is liked and hidden.
    alice = feedback_for(db, "alice", "g", now=NOW)
    assert A in alice.liked
    # Bob cannot double-book it.
    assert set_status(db, "bob", A, "working", guild_id="g", now=NOW) == "alice"
    # Releasing (alice says not for me) frees it; an expired claim frees it too.
    set_status(db, "alice", A, "dismissed", guild_id="g", now=NOW)
    assert A not in feedback_for(db, "bob", "g", now=NOW).hidden
    set_status(db, "alice", B, "working", guild_id="g", now=NOW)
    later = NOW + CLAIM_TTL + timedelta(days=1)
    assert B not in feedback_for(db, "bob", "g", now=later).hidden
    assert set_status(db, "bob", B, "working", guild_id="g", now=later) is None


def test_digest_claim_is_exactly_once_in_the_database(db):
    assert claim_digest(db, "1", "2026-W02", now=NOW)
    assert not claim_digest(db, "1", "2026-W02", now=NOW)
    finish_digest(db, "1", "2026-W02", "dm")
    assert claim_digest(db, "1", "2026-W03", now=NOW)
    assert last_digest_weeks(db) == {"1": "2026-W03"}
    assert [(d.week, d.status) for d in deliveries(db, "1")] == [
        ("2026-W02", "dm"),
        ("2026-W03", "sending"),
    ]


def test_release_gives_back_only_an_unsent_reservation(db):
    assert claim_digest(db, "1", "2026-W02", now=NOW)
    assert release_digest(db, "1", "2026-W02")
    assert deliveries(db, "1") == [] and last_digest_weeks(db) == {}
    assert claim_digest(db, "1", "2026-W02", now=NOW)  # a later pass may retry it
    finish_digest(db, "1", "2026-W02", "dm")
    assert not release_digest(db, "1", "2026-W02")  # a sent digest is never given back
    assert not claim_digest(db, "1", "2026-W02", now=NOW)


def test_digest_claim_races_between_processes(tmp_path):
    # Two handles on one file stand for two bot processes; only one wins each (learner, week).
    url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    first, second = Database(url), Database(url)
    wins = []

    def run(database):
        for i in range(30):
            if claim_digest(database, str(i), "2026-W02", now=NOW):
                wins.append(i)

    threads = [threading.Thread(target=run, args=(d,)) for d in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == list(range(30))


def test_guild_config(db):
    assert get_guild_config(db, "g") is None
    update_guild_config(db, "g", digest_channel_id=123)
    config = update_guild_config(
        db,
        "g",
        focus_repos=parse_focus_list("huggingface/transformers, pytorch/pytorch", repos=True),
    )
    assert config.digest_channel_id == "123" and config.focus_repos == (
        "huggingface/transformers",
        "pytorch/pytorch",
    )
    assert update_guild_config(db, "g", digest_channel_id=None).digest_channel_id is None
    assert parse_focus_list("NLP vision, nlp", repos=False) == ["nlp", "vision"]
    with pytest.raises(ProfileError, match="owner/name"):
        parse_focus_list("transformers", repos=True)


def test_meta(db):
    assert get_meta(db, "k") is None
    set_meta(db, "k", "v1")
    set_meta(db, "k", "v2")
    assert get_meta(db, "k") == "v2"
