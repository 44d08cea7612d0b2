"""Attribution: a merged pull request that closes a suggested issue is linked to the suggestion."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from matcher import portfolio as lib
from matcher.operations.answers import set_status
from matcher.operations.suggestions import record_suggestions
from matcher.render.html import to_html
from matcher.render.terminal import portfolio_renderable
from matcher.store import portfolio as store
from tests.portfolio.conftest import when

SUGGESTED = datetime(2026, 2, 1, 9, tzinfo=UTC)
TOKENIZERS_7 = "https://github.com/acme/tokenizers/issues/7"
VISION_5 = "https://github.com/acme/vision/issues/5"


def _verified(db, fake, client, learner="L1"):
    code = lib.link(db, learner, "ada", client).code
    fake.set_bio("ada", code)
    return lib.verify(db, client, "ada")


def test_merged_pull_is_linked_to_the_suggestion_it_closed(db, gh, fake, client):
    _verified(db, fake, client)
    record_suggestions(
        db,
        "L1",
        [TOKENIZERS_7, VISION_5, "https://github.com/acme/x/issues/1"],
        via="suggest",
        now=SUGGESTED,
    )
    set_status(db, "L1", TOKENIZERS_7, "working", now=SUGGESTED)
    set_status(db, "L1", VISION_5, "interested", now=SUGGESTED)
    report = lib.refresh(db, client, "ada")
    assert {a.issue_url for a in report.attributed} == {TOKENIZERS_7, VISION_5}
    attributions = {a.issue_url: a for a in store.load_attributions(db, "L1")}
    assert (
        attributions[TOKENIZERS_7].contribution_url == "https://github.com/acme/tokenizers/pull/11"
    )
    assert attributions[TOKENIZERS_7].suggested_at == SUGGESTED

    summary = lib.load_summary(db, "ada", niches_of=lambda r: ())
    entry = next(e for e in summary.entries if e.contribution.number == 11)
    assert entry.suggested_at == SUGGESTED and entry.contribution.merged_at == when(3)
    # the learner's own view says which suggestion led to the merge; the public page does not
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(portfolio_renderable(summary))
    assert "suggested on 1 Feb 2026, merged on 3 Feb 2026" in console.file.getvalue()
    assert "suggested on" not in to_html(summary)
    assert summary.funnel == lib.Funnel(suggested=3, interested=2, working=2, merged=2)

    again = lib.refresh(db, client, "ada")  # attributions are recorded once
    assert again.attributed == [] and len(store.load_attributions(db)) == 2


def test_merge_before_the_suggestion_is_not_credited_to_it(db, gh, fake, client):
    _verified(db, fake, client)
    record_suggestions(db, "L1", [TOKENIZERS_7], via="digest", now=when(5))  # after the 3 Feb merge
    assert lib.refresh(db, client, "ada").attributed == []


def test_issue_url_case_and_form_do_not_matter(db, gh, fake, client):
    _verified(db, fake, client)
    record_suggestions(
        db, "L1", ["https://github.com/Acme/Tokenizers/issues/7"], via="suggest", now=SUGGESTED
    )
    assert len(lib.refresh(db, client, "ada").attributed) == 1


def test_funnel_across_learners(db, gh, fake, client):
    _verified(db, fake, client)
    record_suggestions(db, "L1", [TOKENIZERS_7], via="suggest", now=SUGGESTED)
    record_suggestions(db, "L9", [TOKENIZERS_7, VISION_5], via="suggest", now=SUGGESTED)
    set_status(db, "L9", VISION_5, "dismissed", now=SUGGESTED)
    lib.refresh(db, client, "ada")
    assert lib.funnel(db) == lib.Funnel(suggested=3, interested=1, working=1, merged=1)
    assert lib.funnel(db, "L9") == lib.Funnel(suggested=2)
