import pytest

from matcher.cli.every import parse_interval
from matcher.errors import ConfigError


def test_intervals_read_as_seconds():
    assert [parse_interval(t) for t in ("6h", "30m", "1d", "90s", " 1.5H ")] == [
        21600,
        1800,
        86400,
        90,
        5400,
    ]


@pytest.mark.parametrize("text", ["6", "h", "0h", "-1h", "6 hours", "6w"])
def test_a_bad_interval_is_one_line_naming_the_option(text):
    with pytest.raises(ConfigError, match=r"--every: .* is not an interval like 6h"):
        parse_interval(text)
