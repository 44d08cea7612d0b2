"""A community's settings through matcher.operations on real SQLite."""

import pytest

from matcher.errors import ProfileError
from matcher.operations.communities import get_guild_config, parse_focus_list, update_guild_config


def test_guild_config(db):
    assert get_guild_config(db, "g") is None
    update_guild_config(db, "g", digest_channel_id=123)
    config = update_guild_config(
        db,
        "g",
        focus_repos=parse_focus_list("huggingface/transformers, pytorch/pytorch", repos=True),
    )
    assert config.digest_channel_id == "123" and config.focus_repos == (
        "huggingface/transformers",
        "pytorch/pytorch",
    )
    assert update_guild_config(db, "g", digest_channel_id=None).digest_channel_id is None
    assert parse_focus_list("NLP vision, nlp", repos=False) == ["nlp", "vision"]
    with pytest.raises(ProfileError, match="owner/name"):
        parse_focus_list("transformers", repos=True)
