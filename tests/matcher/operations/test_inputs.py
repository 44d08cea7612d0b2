"""Text is normalised the same way on both stores (SQLite and, with MATCHER_TEST_DATABASE_URL,
PostgreSQL), and every stored setting echoes within Discord's 2,000 characters."""

from __future__ import annotations

import pytest

from matcher.errors import ProfileError
from matcher.models import GuildConfig
from matcher.operations.communities import (
    MAX_FOCUS,
    MAX_FOCUS_CHARS,
    get_guild_config,
    set_focus,
    update_guild_config,
)
from matcher.operations.inputs import DISCORD_MESSAGE_LIMIT, clean_text, fit_list
from matcher.operations.profiles import MAX_ITEMS, MAX_TEXT, get_learner, update_profile
from tests.conftest import NOW

GUILD = "5550001"


def _save(db, **fields):
    fields.setdefault("skills", "python")
    return update_profile(db, "42", guild_id=None, now=NOW, **fields).learner


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("py\u200bthon, pandas", "python, pandas"),  # zero-width space
        ("\u202epython\u202c", "python"),  # bidi override and pop
        ("\u2066pytorch\u2069 \ufeff", "pytorch"),  # isolates and a byte-order mark
        ("cafe\u0301 ml", "caf\u00e9 ml"),  # NFC: e + combining accent is one character
        ("python\x07\x1b[31m", "python[31m"),  # control characters
        ("python,\n\tpandas  \u2028 numpy", "python, pandas numpy"),  # whitespace collapses
    ],
)
def test_profile_text_is_stored_normalised_on_both_stores(db, typed, stored):
    _save(db, skills=typed, niche=typed)
    learner = get_learner(db, "42")
    assert learner.skills == stored and learner.niche == stored


def test_a_nul_is_refused_with_one_line_and_nothing_is_stored(db):
    with pytest.raises(ProfileError, match=r"skills contains a NUL character") as refused:
        _save(db, skills="py\x00thon")
    assert "\n" not in str(refused.value) and "\x00" not in str(refused.value)
    assert get_learner(db, "42") is None
    _save(db)
    with pytest.raises(ProfileError, match="niche contains a NUL"):
        _save(db, niche="nlp\x00")
    with pytest.raises(ProfileError, match="timezone contains a NUL"):
        _save(db, timezone="Europe/Berlin\x00")
    assert get_learner(db, "42").niche == ""


def test_text_with_nothing_left_after_cleaning_is_refused(db):
    _save(db, niche="nlp")
    with pytest.raises(ProfileError, match="nothing left once invisible characters"):
        _save(db, niche="\u200b\u200b\u200b")
    with pytest.raises(ProfileError, match="nothing left"):
        _save(db, skills="\u202e\u200d")
    assert get_learner(db, "42").niche == "nlp"


def test_counts_and_lengths_of_profile_fields_are_limited(db):
    many = ", ".join(f"skill{n}" for n in range(MAX_ITEMS["skills"] + 1))
    with pytest.raises(
        ProfileError, match=f"skills lists 31 entries; at most {MAX_ITEMS['skills']}"
    ):
        _save(db, skills=many)
    with pytest.raises(ProfileError, match=f"at most {MAX_TEXT}"):
        _save(db, niche="n" * (MAX_TEXT + 1))
    langs = ", ".join(f"lang{n}" for n in range(MAX_ITEMS["languages"] + 1))
    with pytest.raises(ProfileError, match="languages lists"):
        _save(db, languages=langs)


TWENTY_REPOS = [
    "huggingface/transformers", "pytorch/pytorch", "scikit-learn/scikit-learn",
    "huggingface/datasets", "huggingface/diffusers", "pytorch/vision", "pytorch/audio",
    "keras-team/keras", "tensorflow/tensorflow", "mlflow/mlflow", "ray-project/ray",
    "Lightning-AI/pytorch-lightning", "explosion/spaCy", "openai/whisper", "pandas-dev/pandas",
    "numpy/numpy", "scipy/scipy", "microsoft/onnxruntime", "huggingface/peft",
    "huggingface/accelerate",
]  # fmt: skip


def describe_length(config: GuildConfig | None) -> int:
    from bot.exts.server_settings import describe

    return len("Saved.\n" + describe(config))


def test_twenty_plausible_repositories_are_saved_and_echo_within_one_message(db):
    config, changed = set_focus(db, GUILD, repos=", ".join(TWENTY_REPOS), niches="nlp, vision")
    assert changed and list(config.focus_repos) == TWENTY_REPOS
    assert describe_length(config) <= DISCORD_MESSAGE_LIMIT


def test_too_many_or_too_long_focus_entries_are_refused_and_nothing_changes(db):
    set_focus(db, GUILD, repos="pytorch/pytorch", niches="nlp")
    with pytest.raises(ProfileError, match=f"at most {MAX_FOCUS['repos']} entries, got 21"):
        set_focus(db, GUILD, repos=", ".join([*TWENTY_REPOS, "numpy/numpydoc"]), niches=None)
    with pytest.raises(ProfileError, match="niches is too long|niche .* is too long"):
        set_focus(db, GUILD, repos=None, niches="n" * 6000)
    with pytest.raises(ProfileError, match="niche 'nnnn"):
        set_focus(db, GUILD, repos=None, niches="n" * 41)
    with pytest.raises(ProfileError, match="NUL"):
        set_focus(db, GUILD, repos="a/b\x00", niches=None)
    with pytest.raises(ProfileError, match="nothing left"):
        set_focus(db, GUILD, repos=None, niches="\u200b \u200b")
    config = get_guild_config(db, GUILD)
    assert config.focus_repos == ("pytorch/pytorch",) and config.focus_niches == ("nlp",)


def test_the_longest_accepted_settings_still_echo_within_one_message(db):
    """Worst case: each list at its character limit, with the longest entries GitHub allows."""
    longest = [f"{'o' * 36}{n:03d}/{'n' * 100}" for n in range(MAX_FOCUS["repos"])]
    repos = [
        r
        for i, r in enumerate(longest)
        if len(", ".join(longest[: i + 1])) <= MAX_FOCUS_CHARS["repos"]
    ]
    assert len(repos) == 7 and len(repos[0]) == 140
    niches = [f"{n:02d}" + "x" * 38 for n in range(MAX_FOCUS["niches"])]
    config, _ = set_focus(db, GUILD, repos=", ".join(repos), niches=", ".join(niches)[:500])
    assert config.focus_repos == tuple(repos)
    assert describe_length(config) <= DISCORD_MESSAGE_LIMIT


def test_settings_stored_before_the_limits_are_cut_with_a_count(db):
    legacy = [f"{'o' * 39}/{'r' * 95}{n:05d}" for n in range(50)]
    config = update_guild_config(db, GUILD, focus_repos=legacy, focus_niches=["x" * 6000])
    assert describe_length(config) <= DISCORD_MESSAGE_LIMIT
    from bot.exts.server_settings import describe

    text = describe(config)
    assert "more" in text and text.count("/") < 50


def test_fit_list_counts_what_it_leaves_out():
    assert fit_list([], 50) == "all"
    assert fit_list(["a", "b"], 50) == "a, b"
    assert fit_list(["aaaa", "bbbb", "cccc"], 16) == "aaaa +2 more"
    assert fit_list(["x" * 100], 20) == "+1 more"
    assert all(len(fit_list([f"item{n}" for n in range(80)], b)) <= b for b in range(10, 200))


def test_clean_text_keeps_ordinary_text():
    assert clean_text("skills", "python, PyTorch, 日本語 NLP", max_length=300) == (
        "python, PyTorch, 日本語 NLP"
    )
    assert clean_text("niche", "   ", max_length=10) == ""
