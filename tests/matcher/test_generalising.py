"""Signals that carry to unseen repositories and learners: the centred dense similarity and the
initials of a learner's phrases (bench/tune_ranking.py --report measures both)."""

import numpy as np
import pytest

from matcher.catalog import load_catalog
from matcher.engine import query_for
from matcher.lexical import acronyms, expand_query, phrase_groups
from matcher.ranking import CENTRE_PRIOR, Query, centred_similarity, pool_centre
from matcher.ranking.pool import Lexicon, build_pool, snapshot_of
from matcher.ranking.terms import dense_scores, lexical_scores
from matcher.settings import RankingSettings
from tests.conftest import make_issue, unit


def pool_of(issues, vectors):
    """The issues as the one scorer's pool, and the lexicon it was counted with."""
    lexicon = Lexicon()
    snapshot = snapshot_of(issues, vectors, load_catalog().labels, lexicon)
    return build_pool(snapshot, np.arange(len(issues))), lexicon


def word_scores(texts, terms):
    """The lexical term (BM25 scaled by the pool's best) of issues titled `texts`."""
    issues = [make_issue(n, text, repo="x/y", labels=()) for n, text in enumerate(texts)]
    pool, lexicon = pool_of(issues, np.eye(len(issues), 4, dtype=np.float32))
    return lexical_scores(pool, [Query(np.zeros(4, np.float32), tuple(terms))], lexicon)[0]


def generic_pool(rng: np.random.Generator, generic: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Many issues near one shared direction (what every ML issue has in common), one that is
    about the learner's own topic, and the learner's query, which also carries the shared part."""
    base = np.array([1.0, 0.0, 0.0, 0.0])
    rows = [unit(base + rng.normal(0, 0.05, 4) * [0, 0, 1, 1]) for _ in range(generic)]
    specific = unit([0.5, 0.87, 0.0, 0.0])
    query = unit([0.9, 0.44, 0.0, 0.0])
    return np.vstack([*rows, specific]), query


def test_centred_similarity_lifts_the_issue_that_shares_the_learners_own_topic():
    vectors, query = generic_pool(np.random.default_rng(3))
    specific = len(vectors) - 1
    raw = vectors @ query
    assert int(np.argmax(raw)) != specific  # raw cosine: a generic issue wins on the shared part
    centred = centred_similarity(vectors, pool_centre(vectors), query)[0]
    assert int(np.argmax(centred)) == specific
    assert centred[specific] - np.sort(centred)[-2] > 0.3


def test_a_small_pools_centre_shrinks_and_its_distances_are_exact():
    rng = np.random.default_rng(5)
    vectors = np.vstack([unit(rng.normal(size=8)) for _ in range(3)]).astype(np.float32)
    centre = pool_centre(vectors)
    true_mean = vectors.astype(np.float64).mean(axis=0)
    assert centre.mean == pytest.approx(true_mean * 3 / (3 + CENTRE_PRIOR), abs=1e-7)
    direct = np.linalg.norm(vectors.astype(np.float64) - centre.mean, axis=1)
    assert centre.norms == pytest.approx(direct, abs=1e-6)
    query = unit(rng.normal(size=8))
    order = np.argsort(-(vectors @ query))
    assert list(np.argsort(-centred_similarity(vectors, centre, query)[0])) == list(order)


def test_centred_dense_does_not_depend_on_the_order_of_the_pool():
    rng = np.random.default_rng(7)
    issues = [make_issue(n, f"issue {n}", repo=f"r{n % 5}/x") for n in range(30)]
    vectors = np.vstack([unit(rng.normal(size=16)) for _ in issues]).astype(np.float32)
    query = Query(unit(rng.normal(size=16)), ("issue",))
    settings = RankingSettings()
    forward = dense_scores(pool_of(issues, vectors)[0], [query], settings)[0]
    flip = np.arange(len(issues))[::-1]
    backward = dense_scores(
        pool_of([issues[i] for i in flip], vectors[flip])[0], [query], settings
    )[0]
    assert forward == pytest.approx(backward[flip], abs=1e-12)  # the summing order alone


def test_centre_off_is_the_raw_cosine_and_the_batch_matches_one_learner():
    rng = np.random.default_rng(11)
    issues = [make_issue(n, f"issue {n}") for n in range(12)]
    vectors = np.vstack([unit(rng.normal(size=16)) for _ in issues]).astype(np.float32)
    pool, _ = pool_of(issues, vectors)
    queries = np.vstack([unit(rng.normal(size=16)) for _ in range(4)])
    raw = dense_scores(pool, [Query(queries[0], ())], RankingSettings(centre=False))[0]
    assert raw == pytest.approx((vectors @ queries[0]).astype(np.float64), abs=1e-6)
    assert pool.centre is not None
    batch = centred_similarity(vectors, pool.centre, queries)
    for row, query in zip(batch, queries, strict=True):
        assert row == pytest.approx(centred_similarity(vectors, pool.centre, query)[0], abs=1e-6)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("Python, reinforcement learning", ["rl"]),
        ("LLM applications and retrieval-augmented generation", ["la", "rag"]),
        ("graph neural networks; large language models", ["gnn", "llm"]),
        ("machine learning for audio", ["ml"]),
        ("scikit-learn, stable-baselines3, PyTorch", []),  # one name each, hyphen or not
        ("documentation", []),
    ],
)
def test_a_phrase_of_several_words_also_searches_for_its_initials(profile, expected):
    assert acronyms(profile) == expected


def test_an_issue_that_only_says_the_short_form_matches_the_long_phrase():
    docs = ["RL agent gets stuck in the maze env", "Fix a typo in the learning-rate docs"]
    terms = expand_query("reinforcement learning", {})
    assert "rl" in terms
    assert word_scores(docs, terms)[0] > 0
    assert word_scores(docs, ["reinforcement", "learning"])[0] == 0  # without the initials: none


def test_language_names_leave_the_word_match_to_the_language_term():
    terms = expand_query("Python, PyTorch, Rust; computer vision", {"computer vision": ("image",)})
    assert "python" not in terms and "rust" not in terms
    assert {"pytorch", "computer", "vision", "image"} <= set(terms)


def test_an_issue_that_shares_only_the_language_name_gets_no_word_match():
    docs = [
        "Add image processing scripts. A few Python scripts.",
        "Resize transform keeps the aspect ratio. In torchvision transforms.",
    ]
    scores = word_scores(docs, expand_query("Python, torchvision", {}))
    assert scores[0] == 0.0 and scores[1] > 0.0


def phrase_scores(texts, profile, settings=None):
    """The lexical term of issues titled `texts` for a learner who wrote `profile`."""
    issues = [make_issue(n, text, repo="x/y", labels=()) for n, text in enumerate(texts)]
    pool, lexicon = pool_of(issues, np.eye(len(issues), 4, dtype=np.float32))
    query = query_for(profile, np.zeros(4, np.float32))
    return lexical_scores(pool, [query], lexicon, settings)[0]


def test_phrase_groups_hold_the_words_that_only_fit_together():
    groups = phrase_groups(("Python", "natural language processing", "scikit-learn", "NumPy"))
    assert groups == (
        frozenset({"natural", "language", "processing"}),
        frozenset({"scikit", "learn"}),
    )
    assert phrase_groups(("Python scripting",)) == ()  # a language name is never searched


def test_a_word_of_a_phrase_alone_counts_phrase_part_of_its_match():
    texts = [
        "Speed up image processing filters",
        "Natural language processing tokenizer crashes",
        "Unrelated tutorial page",
        "Another unrelated page",
    ]
    profile = "natural language processing"
    whole = phrase_scores(texts, profile, RankingSettings(phrase_part=1.0, implied_terms=1.0))
    part = phrase_scores(texts, profile, RankingSettings(phrase_part=0.4, implied_terms=1.0))
    assert part[1] == whole[1] == 1.0  # the whole phrase: the pool's best, unchanged
    assert part[0] == pytest.approx(0.4 * whole[0])  # "processing" alone
    assert part[2] == part[3] == 0.0


def test_a_compound_names_parts_alone_are_a_partial_match():
    texts = ["Learn Python with us", "scikit-learn estimator docs", "Nothing here", "Nor here"]
    part = phrase_scores(texts, "scikit-learn", RankingSettings(phrase_part=0.4))
    whole = phrase_scores(texts, "scikit-learn", RankingSettings(phrase_part=1.0))
    assert part[1] == 1.0
    assert part[0] == pytest.approx(0.4 * whole[0]) and part[0] > 0


def test_a_term_the_profile_only_implies_counts_implied_terms_of_one_it_says():
    texts = ["RL agent diverges", "Reinforcement learning agent diverges", "Other", "More"]
    said = phrase_scores(texts, "reinforcement learning", RankingSettings(implied_terms=1.0))
    implied = phrase_scores(texts, "reinforcement learning", RankingSettings(implied_terms=0.5))
    assert said[0] > 0  # "rl", the phrase's initials
    assert implied[1] == said[1] == 1.0
    assert implied[0] == pytest.approx(0.5 * said[0])


def test_a_word_whose_partner_is_never_searched_is_always_a_partial_match():
    assert phrase_groups(("GitHub Actions",)) == (frozenset({"github", "actions"}),)
    texts = ["GitHub Actions workflow fails", "Docker image fails to build", "Other", "More"]
    part = phrase_scores(texts, "GitHub Actions, Docker", RankingSettings(phrase_part=0.4))
    whole = phrase_scores(texts, "GitHub Actions, Docker", RankingSettings(phrase_part=1.0))
    assert whole[0] > 0 and whole[1] > 0
    # even beside "github", "actions" counts 0.4 against a word the learner wrote alone
    assert part[0] / part[1] == pytest.approx(0.4 * whole[0] / whole[1])


def test_a_phrase_written_as_a_sentence_is_whole_where_four_of_its_words_are():
    profile = "making deep learning models run efficiently on edge devices"
    texts = [
        "Deep learning models on edge devices are slow",  # deep learning models edge devices
        "Deep learning models tutorial",  # three of the sentence's words
        "Unrelated page",
        "Another unrelated page",
    ]
    part = phrase_scores(texts, profile, RankingSettings(phrase_part=0.4))
    whole = phrase_scores(texts, profile, RankingSettings(phrase_part=1.0))
    assert part[0] == whole[0] == 1.0
    assert part[1] == pytest.approx(0.4 * whole[1]) and part[1] > 0
