"""The learners table on real SQLite: one row per learner, SQL only (the rules are operations)."""

import threading
from datetime import UTC, datetime, timedelta

from matcher.operations.answers import set_status
from matcher.operations.digests import deliveries
from matcher.operations.profiles import delete_learner
from matcher.operations.suggestions import record_suggestions, suggestions_for
from matcher.store import Database
from matcher.store.digests import reserve_digest
from matcher.store.learners import (
    digest_learners,
    get_learner,
    pop_pending_notice,
    set_digest_enabled,
    set_home_guild,
    set_pending_notice,
    upsert_learner,
)
from matcher.store.suggestions import issues_claimed_by_others, take_issue_claim

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)
A = "https://github.com/o/r/issues/1"


def test_a_new_row_needs_skills_and_partial_writes_keep_the_rest(db):
    assert upsert_learner(db, "1", {"niche": "nlp"}, now=NOW) is None
    assert get_learner(db, "1") is None
    upsert_learner(db, "1", {"skills": "python", "niche": "nlp"}, now=NOW)
    learner = upsert_learner(db, "1", {"timezone": "Europe/Berlin"}, now=NOW)
    assert (learner.skills, learner.niche, learner.timezone) == ("python", "nlp", "Europe/Berlin")
    assert (learner.digest_weekday, learner.digest_hour, learner.digest_enabled) == (0, 9, False)


def test_home_guild_digest_switch_and_notice(db):
    assert set_digest_enabled(db, "1", True, now=NOW) is None  # no profile, nothing stored
    upsert_learner(db, "1", {"skills": "python"}, now=NOW)
    set_home_guild(db, "1", None)  # a DM leaves the home community as it is
    set_home_guild(db, "1", "g")
    assert get_learner(db, "1").home_guild_id == "g"
    later = NOW + timedelta(days=1)
    assert set_digest_enabled(db, "1", True, now=NOW).digest_since == NOW
    assert set_digest_enabled(db, "1", True, now=later).digest_since == NOW  # still on since NOW
    assert [x.learner_id for x in digest_learners(db)] == ["1"]
    set_pending_notice(db, "1", "note")
    assert pop_pending_notice(db, "1") == "note" and pop_pending_notice(db, "1") is None


def test_delete_learner_forgets_every_row(db):
    upsert_learner(db, "1", {"skills": "python"}, now=NOW)
    record_suggestions(db, "1", [A], via="suggest", now=NOW)
    set_status(db, "1", A, "working", guild_id="g", now=NOW)
    reserve_digest(db, "1", "2026-W02", now=NOW)
    delete_learner(db, "1")
    assert get_learner(db, "1") is None and suggestions_for(db, "1") == []
    assert deliveries(db, "1") == []
    assert issues_claimed_by_others(db, "g", "2", after=NOW - timedelta(days=1)) == set()


def test_suggestion_and_issue_claim_inserts_race_safely(tmp_path):
    """Two processes (two handles on one file) recording the same rows: no IntegrityError, one
    row each, and exactly one holder of a contested issue claim."""
    url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    handles = [Database(url), Database(url)]
    urls = [f"https://github.com/o/r/issues/{n}" for n in range(40)]
    holders: list[tuple[str, str, str]] = []  # (issue, who asked, the holder they were told)
    errors: list[BaseException] = []

    def run(db: Database, me: str) -> None:
        try:
            for n in range(0, 40, 4):
                record_suggestions(db, "1", urls[n : n + 8], via="digest", now=NOW)
            for issue in urls[:10]:
                live_after = NOW - timedelta(days=1)
                holders.append(
                    (issue, me, take_issue_claim(db, "g", issue, me, now=NOW, after=live_after))
                )
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(d, me)) for d, me in zip(handles, "ab", strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = suggestions_for(handles[0], "1")
    assert sorted(s.issue_url for s in stored) == sorted(urls)
    assert all(s.digested_at == NOW for s in stored)
    for issue in urls[:10]:
        told = {holder for i, _, holder in holders if i == issue}
        assert len(told) == 1  # both processes were told the same single holder
        (holder,) = told
        others = "b" if holder == "a" else "a"
        assert issue in issues_claimed_by_others(handles[0], "g", others, after=NOW - timedelta(1))
    for db in handles:
        db.close()


def test_the_pace_is_stored_and_a_new_learner_starts_on_auto(db):
    assert upsert_learner(db, "1", {"skills": "python"}, now=NOW).pace == "auto"
    upsert_learner(db, "1", {"pace": "harder"}, now=NOW)
    assert get_learner(db, "1").pace == "harder"
    upsert_learner(db, "1", {"niche": "nlp"}, now=NOW)  # other writes leave it alone
    assert get_learner(db, "1").pace == "harder"
