"""One mapping from catalogue niches and GitHub topics to the names a learner uses."""

from __future__ import annotations

from matcher.niches import join_names, niche_name, niche_slug, pull_niches, repo_niches


def test_topics_and_slugs_meet_in_one_name():
    assert niche_slug("natural-language-processing") == niche_slug("NLP") == "nlp"
    assert niche_slug("Speech Recognition") == "speech"
    assert niche_slug("python") is None and niche_slug("pytorch") is None
    assert niche_name("llm-apps") == "LLM apps" and niche_name("some-new-niche") == "some new niche"


def test_repo_niches_keep_catalogue_order_and_drop_duplicates():
    slugs = repo_niches(["nlp", "llm-apps"], ["natural-language-processing", "asr", "python"])
    assert slugs == ("nlp", "llm-apps", "speech")


def test_a_pull_request_counts_for_the_niches_its_words_name():
    transformers = ("nlp", "llm-apps", "deep-learning-frameworks")
    assert pull_niches(transformers, "Fix padding side in the Whisper tokenizer") == ("nlp",)
    assert pull_niches(transformers, "Chat template for agents") == ("llm-apps",)
    # no cue: the repository's first niche; "context" is not a "text" cue
    assert pull_niches(transformers, "Docs: explain the context manager") == ("nlp",)
    assert pull_niches((), "anything") == ()


def test_lists_are_cut_at_three_with_a_count_of_the_rest():
    assert join_names(["NLP"]) == "NLP"
    assert join_names(["NLP", "speech"]) == "NLP and speech"
    assert join_names(["a", "b", "c"]) == "a, b and c"
    assert join_names(["a", "b", "c", "d", "e"]) == "a, b, c +2 more"


def test_recency_reads_as_people_say_it():
    from datetime import UTC, datetime, timedelta

    from matcher.portfolio import ago

    now = datetime(2026, 5, 12, 9, tzinfo=UTC)
    said = [ago(now - timedelta(days=d), now) for d in (0, 1, 5, 21, 60, 270, 800)]
    assert said == [
        "today",
        "yesterday",
        "5 days ago",
        "3 weeks ago",
        "2 months ago",
        "8 months ago",
        "2 years ago",
    ]
