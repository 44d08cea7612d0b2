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


def markdown_example() -> str:
    """The Markdown export of this sample, as in the README's Portfolio section (niches from topics only)."""
    from matcher.portfolio import load_summary
    from matcher.render.markdown import to_markdown
    from matcher.store import Database

    db = Database("sqlite:///:memory:")
    try:
        populate(db)
        return to_markdown(load_summary(db, LOGIN, niches_of=lambda repo: (), now=NOW))
    finally:
        db.close()


if __name__ == "__main__":  # python -m tests.portfolio.sample  (regenerates the docs example)
    print(markdown_example(), end="")
