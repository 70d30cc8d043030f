"""``csins-adapter run`` prints where Redis is, never its password."""

from __future__ import annotations

import pytest

from adapter.cli.run import shown_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cretpw@127.0.0.1:6379/14", "redis://:***@127.0.0.1:6379/14"),
        (
            "rediss://worker:p%40ss@redis.internal:6380/2",
            "rediss://worker:***@redis.internal:6380/2",
        ),
        ("redis://:pw@[::1]:6379/0", "redis://:***@[::1]:6379/0"),
        ("redis://:a:b@host/0", "redis://:***@host/0"),
        ("unix://:pw@/run/redis.sock?db=0", "unix://:***@/run/redis.sock?db=0"),
        ("redis://host/0?db=1&Password=x", "redis://host/0?db=1&Password=***"),
    ],
)
def test_a_password_in_the_redis_url_is_masked(url: str, shown: str) -> None:
    assert shown_url(url) == shown


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "redis://worker@host:6379/0", "redis://host/0?db=1"]
)
def test_a_url_without_a_password_is_shown_as_it_is(url: str) -> None:
    assert shown_url(url) == url


@pytest.mark.parametrize("url", ["redis://:pw@[::1/0", "redis://:pw@host:99999999/0"])
def test_a_url_that_cannot_be_parsed_is_not_shown(url: str) -> None:
    assert "pw" not in shown_url(url)
