"""The pure parts: streaks, summary numbers, funnel, closing/revert reference parsing."""

from __future__ import annotations

from datetime import date

from matcher.github.pulls import normalize_issue_url, parse_closing_refs, parse_reverted_refs
from matcher.portfolio import Funnel, funnel_counts, load_summary, streaks, summarize
from tests.portfolio.sample import CONTRIBUTIONS, LOGIN, NOW, populate


def test_streaks_count_consecutive_iso_weeks():
    days = [
        date(2026, 1, 5),
        date(2026, 1, 7),
        date(2026, 1, 14),
        date(2026, 1, 19),
        date(2026, 2, 9),
    ]
    # weeks of 5 Jan, 12 Jan, 19 Jan are consecutive; 9 Feb stands alone
    assert streaks(days, today=date(2026, 2, 12)) == (1, 3, 4)
    assert streaks(days, today=date(2026, 2, 17)) == (1, 3, 4)  # last week still counts
    assert streaks(days, today=date(2026, 3, 1)) == (0, 3, 4)
    assert streaks([], today=date(2026, 3, 1)) == (0, 0, 0)


def test_summary_counts_exclude_reverted_and_list_everything():
    s = summarize(
        LOGIN,
        CONTRIBUTIONS,
        verified=True,
        now=NOW,
        niches_of=lambda repo: ("nlp",) if repo.startswith("huggingface/") else (),
    )
    assert s.merged == 3 and s.reverted == 1
    assert s.repos_count == 2
    assert s.additions == 42 + 18 + 120 and s.deletions == 7 + 2 + 31
    assert s.first_merge.date() == date(2026, 2, 4) and s.latest_merge.date() == date(2026, 2, 20)
    assert [r.repo for r in s.repos] == ["huggingface/transformers", "scikit-learn/scikit-learn"]
    assert dict(s.languages) == {"Python": 3}
    # niches by the name people use; generic topics ("machine-learning", "python") are not niches
    assert dict(s.niches) == {"NLP": 2}
    assert s.repos[0].niches == ("NLP",) and s.repos[1].niches == ()
    labels = dict(s.labels)
    assert "good first issue" not in labels and labels["documentation"] == 1
    assert len(s.entries) == 4 and s.entries[0].contribution.number == 30101  # newest first
    assert (s.current_streak_weeks, s.longest_streak_weeks, s.active_weeks) == (0, 3, 3)


def test_funnel_is_cumulative():
    pairs = [
        ("a", "suggested"),
        ("b", "interested"),
        ("c", "working"),
        ("d", "dismissed"),
        ("e", "suggested"),
    ]
    assert funnel_counts(pairs, {"c", "e"}) == Funnel(
        suggested=5, interested=3, working=2, merged=2
    )


def test_closing_refs_from_body():
    body = (
        "Fixes #12, closes huggingface/hub#3.\n"
        "Resolves https://github.com/Acme/Lib/issues/9\nsee #44"
    )
    assert parse_closing_refs(body, "Acme/Lib") == (
        "https://github.com/acme/lib/issues/12",
        "https://github.com/huggingface/hub/issues/3",
        "https://github.com/acme/lib/issues/9",
    )
    assert parse_closing_refs(None, "a/b") == ()


def test_revert_refs_and_url_normalisation():
    assert parse_reverted_refs('Revert "Fix x"', "Reverts Acme/Lib#7", "Acme/Lib") == (
        "https://github.com/acme/lib/issues/7",
    )
    assert (
        normalize_issue_url("https://github.com/Acme/Lib/pull/7")
        == "https://github.com/acme/lib/issues/7"
    )
    assert normalize_issue_url("https://api.github.com/repos/Acme/Lib/issues/7") == (
        "https://github.com/acme/lib/issues/7"
    )


def test_load_summary_from_store_has_attribution_and_funnel(db):
    populate(db)
    s = load_summary(db, LOGIN, niches_of=lambda r: (), now=NOW)
    assert s.verified
    first = s.entries[0]
    assert first.suggested_at.date() == date(2026, 2, 3)
    assert s.attributed == 1
    assert s.funnel == Funnel(suggested=2, interested=1, working=1, merged=1)


def test_unverified_login_is_marked(db):
    populate(db, verified=False)
    s = load_summary(db, LOGIN, niches_of=lambda r: (), now=NOW)
    assert not s.verified and s.funnel is None and s.attributed == 0


def test_times_in_another_zone_count_on_their_utc_day():
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta, timezone

    from matcher.render import day

    tokyo = timezone(timedelta(hours=9))
    first, second = CONTRIBUTIONS[0], CONTRIBUTIONS[1]
    items = [
        replace(
            first, reverted=False, merged_at=datetime(2026, 2, 1, 12, tzinfo=UTC)
        ),  # Sun, week of 26 Jan
        # Mon 9 Feb 01:00 in Tokyo is Sun 8 Feb 16:00 UTC: the week of 2 Feb
        replace(second, reverted=False, merged_at=datetime(2026, 2, 9, 1, tzinfo=tokyo)),
    ]
    s = summarize(LOGIN, items, verified=True, now=datetime(2026, 2, 9, 2, tzinfo=tokyo))
    assert (s.current_streak_weeks, s.longest_streak_weeks, s.active_weeks) == (2, 2, 2)
    assert s.latest_merge == datetime(2026, 2, 8, 16, tzinfo=UTC)
    assert day(items[1].merged_at) == "8 Feb 2026"
