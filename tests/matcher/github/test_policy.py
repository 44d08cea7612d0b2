"""The one retry and rate-limit policy both HTTP stacks apply (matcher/github/policy.py)."""

from __future__ import annotations

import pytest

from matcher.errors import RateLimitError
from matcher.github.policy import RetryPolicy, graphql_rate_error
from tests.fakes.github_fixtures import LABELS, SleepRecorder, fake_client
from tests.fakes.github_server import FakeGitHub


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_secondary_waits_double_in_a_row_and_start_afresh_later():
    clock = Clock()
    policy = RetryPolicy(clock=clock, sleep=SleepRecorder())
    assert [policy.secondary_delay(None) for _ in range(3)] == [60.0, 120.0, 240.0]
    policy.succeeded()
    assert policy.secondary_delay(5.0) == 5.0  # GitHub's retry-after, once the streak ended
    clock.now += 3600
    assert policy.secondary_delay(None) == 60.0


def test_a_wait_beyond_max_wait_is_one_line_not_a_sleep():
    sleep = SleepRecorder()
    policy = RetryPolicy(max_wait=900, sleep=sleep, clock=Clock())
    with pytest.raises(RateLimitError) as err:
        policy.wait(3600, "rate limit exhausted", "/graphql")
    assert "try again later" in str(err.value) and "\n" not in str(err.value)
    policy.wait(3600, "backing off", "/graphql", rate_limit=False)  # backoff is not capped here
    assert sleep.waits == [3600]


@pytest.mark.parametrize(
    "errors,kind",
    [
        (
            [{"type": "RATE_LIMIT", "code": "graphql_rate_limit", "message": "API rate limit"}],
            "primary",
        ),
        ([{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}], "primary"),
        ([{"message": "You have exceeded a secondary rate limit. Please wait"}], "secondary"),
        ([{"type": "NOT_FOUND", "path": ["r0"], "message": "Could not resolve"}], None),
    ],
)
def test_graphql_rate_errors_are_recognised_in_every_current_shape(errors, kind):
    assert graphql_rate_error(errors) == kind


def test_rest_and_graphql_apply_the_same_secondary_policy(fake_github: FakeGitHub):
    from matcher.github import RepoRequest

    fake_github.seed(repos=1, issues_per_repo=1, noise=0)
    fake_github.faults.add("secondary", count=2, target="rest")
    fake_github.faults.add("secondary200", count=2, target="graphql")
    with fake_client(fake_github) as client:
        client.rest.repository("ml-org0/project-000")
        client.graphql.issue_pages([RepoRequest("ml-org0/project-000")], LABELS)
        # REST (PyGithub): the server's Retry-After, doubled on the repeat; the success ends
        # the streak; GraphQL (httpx): a minute without Retry-After, doubled on the repeat
        assert client.policy.sleep.waits == [1.0, 2.0, 60.0, 120.0]
