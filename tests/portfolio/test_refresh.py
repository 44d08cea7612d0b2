"""Refresh against the fake GitHub: storing once, incremental, reverts, renames, bad input."""

from __future__ import annotations

import pytest

from matcher import portfolio as lib
from matcher.errors import AuthError, GitHubNotFoundError
from matcher.github.pulls import PullsClient, make_github
from matcher.store import portfolio as store
from tests.portfolio.conftest import ADA_ID, make_client, when


def test_first_refresh_stores_merged_pulls_with_details(db, gh, fake, client):
    report = lib.refresh(db, client, "ada")
    assert report.seen == 2 and len(report.added) == 2
    stored = {c.number: c for c in store.load_contributions(db, author_id=ADA_ID)}
    assert set(stored) == {11, 21}  # the open one and bob's are not Ada's merges
    tok = stored[11]
    assert (tok.repo, tok.additions, tok.deletions, tok.labels) == (
        "acme/tokenizers",
        40,
        3,
        ("bug",),
    )
    assert (tok.repo_stars, tok.repo_language, tok.repo_topics) == (
        2400,
        "Rust",
        ("nlp", "tokenization"),
    )
    assert tok.merged_at == when(3) and tok.details
    # closing issues: from the body ("Fixes #7") and from GraphQL closingIssuesReferences
    assert tok.closes == ("https://github.com/acme/tokenizers/issues/7",)
    assert stored[21].closes == ("https://github.com/acme/vision/issues/5",)


def test_second_refresh_with_nothing_new_stores_nothing_new(db, gh, fake, client):
    lib.refresh(db, client, "ada")
    before = store.load_contributions(db, author_id=ADA_ID)
    pulls_before = fake.requests_to(r"/pulls/\d+$")
    again = lib.refresh(db, make_client(gh), "ada")
    assert again.added == [] and again.updated == 0 and again.reverted == []
    assert store.load_contributions(db, author_id=ADA_ID) == before
    # known pull requests are not fetched again
    assert fake.requests_to(r"/pulls/\d+$") == pulls_before
    # user + search + revert search: a quiet refresh is cheap
    assert sum(again.requests.values()) <= 4, again.requests


def test_refresh_is_incremental_by_merge_date(db, gh, fake, client):
    lib.refresh(db, client, "ada")
    fake.add_pull("acme/vision", "ada", "Faster resize", merged_at=when(20), number=30)
    report = lib.refresh(db, make_client(gh), "ada")
    assert report.since.isoformat() == "2026-02-10"  # day of the latest merge seen before
    assert [c.number for c in report.added] == [30]
    searches = [p for m, p, s in gh.stats.log if p == "/search/issues"]
    assert searches  # the query itself carries merged:>=2026-02-10 (see the fake's parser)
    assert len(store.load_contributions(db, author_id=ADA_ID)) == 3


def test_reverted_pull_is_flagged_not_lost(db, gh, fake, client):
    lib.refresh(db, client, "ada")
    fake.add_pull(
        "acme/tokenizers",
        "maintainer",
        'Revert "Fix padding for empty batches"',
        merged_at=when(12),
        body="Reverts acme/tokenizers#11",
        number=40,
    )
    fake.add_user("maintainer", 9)
    report = lib.refresh(db, make_client(gh), "ada")
    assert report.reverted == ["https://github.com/acme/tokenizers/pull/11"]
    c = {c.number: c for c in store.load_contributions(db, author_id=ADA_ID)}[11]
    assert c.reverted and c.reverted_by == "https://github.com/acme/tokenizers/pull/40"
    summary = lib.load_summary(db, "ada", niches_of=lambda r: ())
    assert summary.merged == 1 and summary.reverted == 1 and len(summary.entries) == 2


def test_renamed_login_is_followed_through_the_user_id(db, gh, fake, client):
    lib.refresh(db, client, "ada")
    fake.rename_user("ada", "ada-lovelace")
    fake.add_pull("acme/vision", "ada-lovelace", "Fix crop", merged_at=when(15), number=31)
    report = lib.refresh(db, make_client(gh), "ada")
    assert report.renamed_from == "ada" and report.login == "ada-lovelace"
    assert [c.number for c in report.added] == [31]
    stored = store.load_contributions(db, author_id=ADA_ID)
    assert len(stored) == 3 and {c.author_login for c in stored} == {"ada-lovelace"}


def test_unknown_login_is_a_clear_error_and_stores_nothing(db, gh, fake, client):
    with pytest.raises(GitHubNotFoundError, match="GitHub has no user 'nobody-at-all'"):
        lib.refresh(db, client, "nobody-at-all")
    assert store.load_contributions(db) == []


def test_private_or_deleted_repository_keeps_what_is_stored(db, gh, fake, client):
    lib.refresh(db, client, "ada")
    fake.hide_repo("acme/vision")
    report = lib.refresh(db, make_client(gh), "ada", full=True)
    assert report.seen == 1 and report.added == []
    assert len(store.load_contributions(db, author_id=ADA_ID)) == 2  # nothing lost


def test_pull_of_a_repository_gone_private_is_stored_from_search(db, gh, fake):
    fake.hide_repo("acme/vision", from_search=False)  # search index still lists it, REST says 404
    report = lib.refresh(db, make_client(gh), "ada")
    assert len(report.added) == 2
    vision = {c.number: c for c in store.load_contributions(db, author_id=ADA_ID)}[21]
    assert (
        not vision.details
        and vision.additions is None
        and vision.title == "Docs: augmentation example"
    )


def test_bad_token_is_an_auth_error(db, gh, fake):
    client = PullsClient(make_github(gh.url, "ghp_wrong_token_value", retries=0, timeout=5))
    with pytest.raises(AuthError):
        lib.refresh(db, client, "ada")


def test_graphql_unavailable_falls_back_to_body_keywords(db, gh, fake):
    report = lib.refresh(db, make_client(gh, use_graphql=False), "ada")
    assert "graphql" not in report.requests
    stored = {c.number: c for c in store.load_contributions(db, author_id=ADA_ID)}
    assert stored[11].closes == ("https://github.com/acme/tokenizers/issues/7",)
    assert stored[21].closes == ()  # only GraphQL knew this link


def test_rate_limit_is_one_clear_error_and_nothing_half_stored(db, gh, fake):
    gh.faults.add("primary", count=1, target="rest")
    from matcher.errors import RateLimitError

    with pytest.raises(RateLimitError, match="rate limit exhausted"):
        lib.refresh(db, make_client(gh), "ada")
    assert store.load_contributions(db) == []


def test_server_errors_are_retried(db, gh, fake):
    gh.faults.add("502", count=2, target="rest")
    report = lib.refresh(db, make_client(gh), "ada")
    assert len(report.added) == 2 and gh.faults.pending == 0


# -- issue 11: GitHub's advanced search, the 1,000-result cap, closing-reference errors -----------


def test_revert_search_names_repositories_as_one_or_group(db, gh, fake, client):
    """Space-joined `repo:` qualifiers mean AND under advanced search: a chunk of two
    repositories found nothing. Each revert here lives in another repository."""
    fake.add_pull(
        "acme/tokenizers", "carol", "Revert padding fix", merged_at=when(5), body="Reverts #11"
    )
    fake.add_pull(
        "acme/vision", "dan", "Revert the docs example", merged_at=when(12), body="Reverts #21"
    )
    found = client.reverts(["acme/tokenizers", "acme/vision"], since=None)
    assert set(found) == {
        "https://github.com/acme/tokenizers/issues/11",
        "https://github.com/acme/vision/issues/21",
    }
    assert any("(repo:acme/tokenizers OR repo:acme/vision)" in q for q in fake.searches)


def test_more_than_a_thousand_merged_pulls_keeps_the_newest(gh, fake, client):
    from datetime import timedelta

    start = when(1, month=1)
    for k in range(1200):
        fake.add_pull("acme/vision", "ada", f"Change {k}", merged_at=start + timedelta(hours=6 * k))
    pulls = client.merged_pulls("ada")
    newest = max(p.merged_at for p in fake.pulls.values() if p.author == "ada" and p.merged_at)
    assert len(pulls) == 1202 and max(c.merged_at for c in pulls) == newest
    assert all(q.count("merged:") <= 1 for q in fake.searches)  # split by merge-date ranges


def test_one_broken_closing_reference_keeps_the_others_and_the_lookups(db, gh, fake, client):
    fake.broken_closing_refs.add("https://github.com/acme/tokenizers/pull/11")
    pulls = client.merged_pulls("ada")
    closing = client.closing_issues(pulls)
    assert closing == {
        "https://github.com/acme/vision/pull/21": ("https://github.com/acme/vision/issues/5",)
    }
    assert client.use_graphql  # one error does not switch GraphQL off for the rest of the run
    assert client.closing_issues(pulls[1:]) == closing
