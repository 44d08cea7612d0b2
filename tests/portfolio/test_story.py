"""The niche story of a portfolio: where the merged work concentrates, how far along the ramp it
is, and the next step, in every format with the JSON's numbers and no funnel on public pages."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from rich.console import Console

from bot.exts.portfolio import portfolio_embed
from matcher.models import Contribution, Issue, Learner
from matcher.operations.answers import set_status
from matcher.operations.levels import level_for
from matcher.operations.profiles import update_profile
from matcher.operations.suggestions import record_suggestions
from matcher.portfolio import load_summary, next_step
from matcher.ramp import kind_of, ramp_of
from matcher.render.html import to_html
from matcher.render.json import to_json
from matcher.render.markdown import to_markdown
from matcher.render.terminal import print_portfolio
from matcher.signals import kind_step
from matcher.store import Database
from matcher.store import portfolio as store
from matcher.store.issues import upsert_issues
from matcher.store.learners import get_learner
from tests.portfolio.sample import summaries

LOGIN, GITHUB_ID, LEARNER = "lin-docs", 5151, "5005"
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
HF = "huggingface/transformers"
DOCS_ISSUE = f"https://github.com/{HF}/issues/41001"
BUG_ISSUE = f"https://github.com/{HF}/issues/41002"
FEATURE_ISSUE = f"https://github.com/{HF}/issues/41003"


def _pr(number: int, title: str, labels: tuple[str, ...] = (), **extra) -> Contribution:
    return Contribution(
        url=f"https://github.com/{HF}/pull/{number}",
        repo=HF,
        number=number,
        title=title,
        merged_at=NOW - timedelta(days=number % 20 + 1),
        author_id=GITHUB_ID,
        author_login=LOGIN,
        additions=10,
        deletions=2,
        labels=labels,
        repo_topics=("nlp",),
        **extra,
    )


def _issue(url: str, title: str, labels: tuple[str, ...]) -> Issue:
    return Issue(url=url, repo=HF, number=int(url.rsplit("/", 1)[1]), title=title, labels=labels)


@pytest.fixture
def db():
    """A learner with one merged docs PR and three open suggestions: docs, bug, feature."""
    database = Database("sqlite:///:memory:")
    store.save_claim(database, LEARNER, LOGIN, "5" * 64, NOW + timedelta(days=1))
    store.mark_verified(database, LEARNER, GITHUB_ID, LOGIN)
    store.add_contributions(
        database, [_pr(40001, "Docs: fix a typo in the pipeline tutorial", ("documentation",))]
    )
    upsert_issues(
        database,
        [
            _issue(FEATURE_ISSUE, "Add support for left padding in TextStreamer", ("feature",)),
            _issue(BUG_ISSUE, "Whisper tokenizer crashes on empty input", ("bug",)),
            _issue(DOCS_ISSUE, "Document the generation config defaults", ("documentation",)),
        ],
    )
    for days, url in ((3, FEATURE_ISSUE), (2, BUG_ISSUE), (1, DOCS_ISSUE)):  # docs is newest
        record_suggestions(database, LEARNER, [url], via="suggest", now=NOW - timedelta(days=days))
    yield database
    database.close()


def _summary(db):
    return load_summary(db, LOGIN, niches_of=lambda repo: (), now=NOW)


def _text(html: str) -> str:
    html = re.sub(r"<(style|title)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _terminal(summary) -> str:
    buffer = io.StringIO()
    print_portfolio(summary, Console(file=buffer, width=200, color_system=None))
    return " ".join(buffer.getvalue().replace("│", " ").split())


# --- the ramp --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "labels", "step"),
    [
        ("Fix typo in README", (), 1),
        ("Add unit tests for the collator", (), 1),
        ("Update the tokenizer", ("documentation",), 1),
        ("Fix crash when the batch is empty", (), 2),
        ("Tokenizer returns wrong offsets", ("bug",), 2),
        ("Add sample_weight support to MeanShift", ("Enhancement",), 3),
        ("Refresh the config", (), 1),  # nothing said: the first rung, not a guess upwards
    ],
)
def test_a_merged_pull_request_sits_on_a_step_by_its_kind(title, labels, step):
    assert kind_step(kind_of(title, labels)) == step


def test_the_ramp_is_the_highest_counted_step_and_ignores_reverts():
    docs = _pr(1, "Docs: explain padding", ("documentation",))
    reverted_feature = _pr(2, "Add streaming support", ("feature",), reverted=True)
    bug = _pr(3, "Fix crash on empty input", ("bug",))
    assert ramp_of([docs, reverted_feature]).step == 1
    ramp = ramp_of([docs, reverted_feature, bug])
    assert (ramp.step, ramp.counts, ramp.stage) == (2, (1, 1, 0), "bug fixes")
    assert ramp_of([]).step == 0 and ramp_of([]).stage is None


# --- the next step ------------------------------------------------------------------------------


def _merge(db, number: int, title: str, labels: tuple[str, ...]) -> None:
    store.add_contributions(db, [_pr(number, title, labels)])


def _pace(db, pace: str) -> None:
    update_profile(db, LEARNER, guild_id=None, now=NOW, skills="tokenizers, python", pace=pace)


def _level(db):
    return level_for(db, get_learner(db, LEARNER) or Learner(LEARNER))  # no profile saved yet


def test_after_a_merged_docs_pr_the_next_issue_is_a_step_up(db):
    s = _summary(db)
    assert s.ramp.step == 1
    assert s.level == _level(db) and (s.level.ready, s.level.target) == (2, 2)
    n = s.next_issue
    assert n.url == BUG_ISSUE and n.step == 2  # not the newer docs issue, nor the feature
    assert n.step_up == "a step up from your merged docs PR in huggingface/transformers"
    step = next_step(s)
    assert step.text == (
        "Whisper tokenizer crashes on empty input in huggingface/transformers, "
        "a step up from your merged docs PR in huggingface/transformers"
    )


@pytest.mark.parametrize(
    ("pace", "url", "why"),
    [
        ("easier", DOCS_ISSUE, "an easier one, as you asked"),
        ("harder", FEATURE_ISSUE, "a harder one, as you asked"),
    ],
)
def test_the_next_issue_follows_the_pace_the_learner_asked_for(db, pace, url, why):
    _pace(db, pace)
    s = _summary(db)
    assert s.level == _level(db) and s.level.pace == pace
    assert (s.next_issue.url, s.next_issue.step, s.next_issue.step_up) == (
        url,
        s.level.target,
        why,
    )
    assert next_step(s).text.endswith(f"in {HF}, {why}")


def test_easier_after_a_merged_bug_fix_aims_where_the_ranking_does(db):
    """A merged bug fix makes the learner ready for features; 'easier' aims a step below, at
    bug fixes: not the feature the highest merge alone would point to, nor the newer docs."""
    _merge(db, 40002, "Fix crash when the batch is empty", ("bug",))
    assert _summary(db).next_issue.url == FEATURE_ISSUE
    _pace(db, "easier")
    s = _summary(db)
    assert (s.level.ready, s.level.target) == (3, 2)
    assert (s.next_issue.url, s.next_issue.step_up) == (BUG_ISSUE, "an easier one, as you asked")
    assert json.loads(to_json(s))["story"]["level"] == {
        "ready": 3,
        "pace": "easier",
        "target": 2,
        "basis": f"your merged bug fix in {HF}",
    }


def test_an_issue_the_learner_is_working_on_stays_next(db):
    set_status(db, LEARNER, DOCS_ISSUE, "working", now=NOW)
    n = _summary(db).next_issue
    assert n.url == DOCS_ISSUE and n.step_up is None


def test_a_bug_fix_under_way_is_next_a_step_up_from_the_merged_work(db):
    set_status(db, LEARNER, BUG_ISSUE, "working", now=NOW)
    n = _summary(db).next_issue
    assert n.url == BUG_ISSUE
    assert n.step_up == f"a step up from your merged docs PR in {HF}"  # not 'the same step as' it


def test_with_only_a_bug_fix_under_way_the_level_and_next_issue_follow_level_of(db):
    """No merge, one bug fix marked working: level_of counts it (ready for bug fixes); among the
    issues the learner is working on, the one at that step comes before a newer docs issue."""
    store.mark_reverted(db, f"https://github.com/{HF}/pull/40001", "https://example.com/revert")
    set_status(db, LEARNER, BUG_ISSUE, "working", now=NOW - timedelta(hours=2))
    s = _summary(db)
    assert s.merged == 0 and s.level == _level(db)
    assert (s.level.ready, s.level.target, s.level.basis_in().phrase) == (
        2,
        2,
        f"the bug fix you are working on in {HF}",
    )
    assert (s.next_issue.url, s.next_issue.step_up) == (BUG_ISSUE, None)

    set_status(db, LEARNER, DOCS_ISSUE, "working", now=NOW)  # newer, but below the level
    assert _summary(db).next_issue.url == BUG_ISSUE
    _pace(db, "easier")  # now the docs issue is where the ranking aims
    assert (_summary(db).next_issue.url, _summary(db).next_issue.step_up) == (
        DOCS_ISSUE,
        "an easier one, as you asked",
    )


def test_with_no_open_issue_the_next_step_names_the_kind_of_work_and_where():
    s = summaries()["large"]  # 20 docs/tests, 40 bug fixes, no feature, mostly NLP
    assert (s.ramp.step, s.ramp.counts) == (2, (20, 40, 0))
    assert next_step(s).text == (
        "a feature in NLP, a step up from your merged bug fix in huggingface/transformers"
    )
    easier = replace(s, level=replace(s.level, pace="easier"))
    assert next_step(easier).text == "another bug fix in NLP, an easier one, as you asked"


# --- every format -----------------------------------------------------------------------------


def test_every_format_tells_the_story_with_the_json_numbers(db):
    s = _summary(db)
    data = json.loads(to_json(s))
    story = data["story"]
    assert story["ramp"] == {
        "step": 1,
        "of": 3,
        "stage": "docs, tests and small fixes",
        "counts": {"docs, tests and small fixes": 1, "bug fixes": 0, "features": 0},
        "text": "step 1 of 3, docs, tests and small fixes: 1 docs/tests change, 0 bug fixes, "
        "0 features",
    }
    ((niche, count),), (repo,) = data["skills"]["niches"].items(), data["repositories"]
    focus = f"{niche} ({count} of 1 merged pull request); in {repo['repo']} ({repo['prs']})"
    assert (
        story["focus"]
        == focus
        == "NLP (1 of 1 merged pull request); in huggingface/transformers (1)"
    )
    assert story["next_step"]["url"] == BUG_ISSUE == data["next_issue"]["url"]
    step_up = data["next_issue"]["step_up"]

    # the published exports carry the focus; the ramp and the next step are the learner's
    md = to_markdown(s)
    assert f"### Focus\n\n{focus}." in md
    page = to_html(s)
    text = _text(page)
    assert f"Focus {focus}." in text
    for public in (md, page, portfolio_embed(s.public()).description):
        assert "Ramp" not in public and "Next step" not in public
        assert BUG_ISSUE not in public and step_up not in public

    term = _terminal(s)
    assert f"focus: {focus}" in term and f"ramp: {story['ramp']['text']}" in term
    assert step_up in term

    embed = portfolio_embed(s).description
    assert f"**Focus:** {focus}" in embed and step_up in embed
    assert f"**Ramp:** {story['ramp']['text']}" in embed


def test_public_pages_carry_no_funnel(db):
    s = _summary(db)
    assert s.funnel is not None and s.funnel.suggested == 3
    for public in (to_html(s), to_markdown(s)):
        lowered = public.lower()
        assert "suggested" not in lowered and "interested" not in lowered
        assert "funnel" not in lowered


def test_an_empty_portfolio_has_no_story():
    s = summaries()["empty"]
    story = json.loads(to_json(s))["story"]
    assert story["focus"] is None and story["next_step"] is None and story["ramp"]["step"] == 0
    assert "Focus" not in to_html(s) and "Focus" not in to_markdown(s)


@pytest.mark.parametrize("case", ["small", "large"])
def test_the_sample_exports_state_the_story_of_their_json(case):
    s = summaries()[case]
    story = json.loads(to_json(s))["story"]
    assert sum(story["ramp"]["counts"].values()) == s.merged
    md, text, term = to_markdown(s), _text(to_html(s)), _terminal(s)
    assert story["focus"] in md and story["focus"] in text and story["focus"] in term
    # the learner's own view tells the rest of the story; the published pages do not
    for line in (story["ramp"]["text"], story["next_step"]["text"]):
        assert line in term and line not in md and line not in text
