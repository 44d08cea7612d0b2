"""The meta table: small facts remembered across restarts."""

from matcher.store.meta import get_meta, set_meta


def test_meta(db):
    assert get_meta(db, "k") is None
    set_meta(db, "k", "v1")
    set_meta(db, "k", "v2")
    assert get_meta(db, "k") == "v2"
