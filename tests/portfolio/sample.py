"""A small realistic portfolio put straight into a store (no GitHub), for renderer and CLI tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from matcher.operations.answers import set_status
from matcher.operations.suggestions import record_suggestions
from matcher.store import portfolio as store
from matcher.store.portfolio import Attribution, Contribution

LOGIN = "ada-learns"
GITHUB_ID = 4242
LEARNER = "1001"
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _c(repo, number, title, merged, adds, dels, **extra) -> Contribution:
    return Contribution(
        url=f"https://github.com/{repo}/pull/{number}",
        repo=repo,
        number=number,
        title=title,
        merged_at=merged,
        author_id=GITHUB_ID,
        author_login=LOGIN,
        additions=adds,
        deletions=dels,
        **extra,
    )


CONTRIBUTIONS = [
    _c(
        "huggingface/transformers",
        30101,
        "Fix padding side in the Whisper tokenizer",
        datetime(2026, 2, 20, 15, 4, tzinfo=UTC),
        42,
        7,
        labels=("good first issue", "tokenization"),
        closes=("https://github.com/huggingface/transformers/issues/30010",),
        repo_stars=134000,
        repo_language="Python",
        repo_topics=("nlp", "pytorch", "transformers"),
    ),
    _c(
        "huggingface/transformers",
        29877,
        "Docs: explain generation config defaults",
        datetime(2026, 2, 11, 9, 30, tzinfo=UTC),
        18,
        2,
        labels=("documentation",),
        repo_stars=134000,
        repo_language="Python",
        repo_topics=("nlp", "pytorch", "transformers"),
    ),
    _c(
        "scikit-learn/scikit-learn",
        31002,
        "Add sample_weight support to MeanShift",
        datetime(2026, 2, 4, 18, 0, tzinfo=UTC),
        120,
        31,
        labels=("Enhancement",),
        repo_stars=61000,
        repo_language="Python",
        repo_topics=("machine-learning", "python"),
    ),
    _c(
        "pola-rs/polars",
        18200,
        "Fix | handling in <str.split> docs",
        datetime(2026, 1, 27, 8, 0, tzinfo=UTC),
        5,
        5,
        labels=("documentation",),
        repo_stars=33000,
        repo_language="Rust",
        repo_topics=("dataframe",),
        reverted=True,
        reverted_by="https://github.com/pola-rs/polars/pull/18230",
    ),
]


def populate(db, *, verified: bool = True) -> None:
    """Identity (verified or not), 4 contributions (1 reverted), 2 suggestions, 1 attribution."""
    store.save_claim(db, LEARNER, LOGIN, "0" * 64, NOW + timedelta(days=1))
    if verified:
        store.mark_verified(db, LEARNER, GITHUB_ID, LOGIN)
    store.add_contributions(db, CONTRIBUTIONS)
    suggested = datetime(2026, 2, 3, 10, tzinfo=UTC)
    record_suggestions(
        db,
        LEARNER,
        [
            "https://github.com/huggingface/transformers/issues/30010",
            "https://github.com/pytorch/pytorch/issues/1",
        ],
        via="suggest",
        now=suggested,
    )
    set_status(
        db,
        LEARNER,
        "https://github.com/huggingface/transformers/issues/30010",
        "working",
        now=suggested,
    )
    if verified:
        store.add_attribution(
            db,
            Attribution(
                CONTRIBUTIONS[0].url,
                LEARNER,
                "https://github.com/huggingface/transformers/issues/30010",
                suggested,
            ),
        )


# --- the large case: 60 merged pull requests in 12 repositories over 14 months -------------

LARGE_LOGIN = "grace-builds"
LARGE_ID = 7373
LARGE_LEARNER = "2002"
LARGE_NOW = datetime(2026, 5, 12, 9, tzinfo=UTC)  # the latest merge is 3 weeks before
# (repo, stars, language, topics, how many pull requests); the last one is not in the catalogue
LARGE_REPOS = [
    ("huggingface/transformers", 134000, "Python", ("nlp", "pytorch", "transformers"), 12),
    ("speechbrain/speechbrain", 9800, "Python", ("speech-recognition", "asr", "python"), 9),
    ("openai/whisper", 72000, "Python", ("speech", "asr"), 7),
    ("huggingface/tokenizers", 9300, "Rust", ("nlp", "tokenization", "rust"), 6),
    ("explosion/spaCy", 30000, "Python", ("natural-language-processing", "nlp", "python"), 5),
    ("huggingface/datasets", 19000, "Python", ("nlp", "datasets"), 5),
    ("pytorch/audio", 2500, "Python", ("audio", "speech", "pytorch"), 4),
    ("nltk/nltk", 13500, "Python", ("nlp", "natural-language-processing"), 3),
    ("espnet/espnet", 8500, "Python", ("speech-recognition", "text-to-speech"), 3),
    ("UKPLab/sentence-transformers", 15000, "Python", ("nlp", "embeddings"), 2),
    ("coqui-ai/TTS", 35000, "Python", ("text-to-speech", "tts", "deep-learning"), 2),
    ("grace-builds/phoneme-tools", 40, "Python", ("natural-language-processing", "python"), 2),
]
_VERBS = ["Fix", "Docs: document", "Add tests for", "Speed up", "Support", "Type-annotate"]
_THINGS = [
    "the tokenizer padding side",
    "speech feature extraction at 8 kHz",
    "batched generation with left padding",
    "the ASR pipeline chunking",
    "streaming dataset shuffling",
    "the text normaliser for numbers",
    "CTC decoding with an empty beam",
    "sentence embeddings on MPS",
    "a very long title that wraps on a phone because it explains the whole change in words",
]


def _large_contributions() -> list[Contribution]:
    out, k = [], 0
    first = datetime(2025, 4, 2, 10, tzinfo=UTC)
    for repo, stars_, language, topics, n in LARGE_REPOS:
        for _ in range(n):
            k += 1
            # spread over 385 days: 14 calendar months, April 2025 to April 2026
            offset = (k * 37) % 385
            merged = first + timedelta(days=offset, hours=k % 9)
            if k == 1:
                merged = datetime(2026, 4, 21, 16, tzinfo=UTC)  # the latest
            out.append(
                Contribution(
                    url=f"https://github.com/{repo}/pull/{1000 + k}",
                    repo=repo,
                    number=1000 + k,
                    title=f"{_VERBS[k % len(_VERBS)]} {_THINGS[k % len(_THINGS)]}",
                    merged_at=merged,
                    author_id=LARGE_ID,
                    author_login=LARGE_LOGIN,
                    additions=(k * 53) % 400 + 3 + (900 if k == 17 else 0),
                    deletions=(k * 29) % 90,
                    labels=("good first issue", "bug") if k % 3 else ("documentation",),
                    closes=(f"https://github.com/{repo}/issues/{500 + k}",) if k % 2 else (),
                    repo_stars=stars_,
                    repo_language=language,
                    repo_topics=topics,
                )
            )
    return out


LARGE_CONTRIBUTIONS = _large_contributions()


def populate_large(db) -> None:
    """A verified learner with 60 merged pull requests in 12 repositories over 14 months."""
    store.save_claim(db, LARGE_LEARNER, LARGE_LOGIN, "1" * 64, LARGE_NOW + timedelta(days=1))
    store.mark_verified(db, LARGE_LEARNER, LARGE_ID, LARGE_LOGIN)
    store.add_contributions(db, LARGE_CONTRIBUTIONS)


# --- the empty case: a verified learner with no merge yet and one suggestion to start on ---

EMPTY_LOGIN = "new-learner"
EMPTY_ID = 9090
EMPTY_LEARNER = "3003"
NEXT_ISSUE = "https://github.com/huggingface/datasets/issues/7001"


def populate_empty(db, *, with_suggestion: bool = True) -> None:
    """A verified login with no merged pull request, and (optionally) a suggested issue."""
    from matcher.models import Issue
    from matcher.store.issues import upsert_issues

    store.save_claim(db, EMPTY_LEARNER, EMPTY_LOGIN, "2" * 64, NOW + timedelta(days=1))
    store.mark_verified(db, EMPTY_LEARNER, EMPTY_ID, EMPTY_LOGIN)
    if with_suggestion:
        upsert_issues(
            db,
            [
                Issue(
                    url=NEXT_ISSUE,
                    repo="huggingface/datasets",
                    number=7001,
                    title="Document the streaming mode's shuffle buffer",
                    labels=("good first issue", "documentation"),
                )
            ],
        )
        record_suggestions(db, EMPTY_LEARNER, [NEXT_ISSUE], via="suggest", now=NOW)


def markdown_example() -> str:
    """The Markdown export of this sample, as in the README's Portfolio section.

    Niches come from repository topics only, so the example does not move with the catalogue.
    """
    from matcher.portfolio import load_summary
    from matcher.render.markdown import to_markdown
    from matcher.store import Database

    db = Database("sqlite:///:memory:")
    try:
        populate(db)
        return to_markdown(load_summary(db, LOGIN, niches_of=lambda repo: (), now=NOW))
    finally:
        db.close()


def summaries() -> dict:
    """The small, large and empty summaries, as the renderer tests and the screenshots use them."""
    from matcher.portfolio import load_summary
    from matcher.store import Database

    db = Database("sqlite:///:memory:")
    try:
        populate(db)
        populate_large(db)
        populate_empty(db)
        return {
            "small": load_summary(db, LOGIN, niches_of=lambda repo: (), now=NOW),
            "large": load_summary(db, LARGE_LOGIN, now=LARGE_NOW),
            "empty": load_summary(db, EMPTY_LOGIN, now=NOW),
        }
    finally:
        db.close()


def write_pages(folder) -> list:
    """portfolio-{small,large,empty}.html in `folder`; returns their paths."""
    from pathlib import Path

    from matcher.render.html import to_html

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, summary in summaries().items():
        path = folder / f"portfolio-{name}.html"
        path.write_text(to_html(summary), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--pages"]:  # python -m tests.portfolio.sample --pages DIR
        for path in write_pages(sys.argv[2]):
            print(path)
    else:  # python -m tests.portfolio.sample  (regenerates the docs example)
        print(markdown_example(), end="")
