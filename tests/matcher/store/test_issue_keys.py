"""The issue_keys table: short stable keys for button custom_ids."""

from matcher.store.issue_keys import issue_key, register_issue_keys, url_for_key

A = "https://github.com/o/r/issues/1"
B = "https://github.com/o/r/issues/2"


def test_issue_keys_are_short_and_stable(db):
    keys = register_issue_keys(db, [A, B])
    register_issue_keys(db, [A])  # idempotent
    assert keys[A] == issue_key(A) and len(keys[A]) == 16
    assert url_for_key(db, keys[B]) == B
    assert url_for_key(db, "0" * 16) is None
    assert len(f"match:working:{keys[A]}") <= 100
