"""With REDIS_URL, workers on other hosts learn of a change through Redis."""

from __future__ import annotations

import os
import time

import pytest
import redis

from flags import snapshot
from flags.models import Flag

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_coordination(settings):
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} is unreachable and CI=true")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable")
    client.flushdb()
    settings.CACHES = {
        **settings.CACHES,
        "coordination": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "dezky-coord",
            "TIMEOUT": None,
        },
    }
    settings.FLAGS_SNAPSHOT_CHECK_SECONDS = 0.2
    snapshot.reset_for_tests()
    yield client
    client.flushdb()
    client.close()


def test_a_bump_from_another_host_is_seen_within_the_check_interval(redis_coordination) -> None:
    before = snapshot.get_snapshot()
    assert before.flags_by_key["saml_sso"].state == "off"
    # Another host changed the flag: its row is in the shared database, its bump in Redis.
    Flag.objects.filter(key="saml_sso").update(state="on")
    redis_coordination.incr("dezky-coord:1:version:flags")

    assert snapshot.get_snapshot() is before  # within the interval: no cache round-trip
    time.sleep(0.25)
    after = snapshot.get_snapshot()
    assert after.flags_by_key["saml_sso"].state == "on"


def test_steady_state_reads_redis_at_most_once_per_interval(redis_coordination) -> None:
    snapshot.get_snapshot()
    calls_before = redis_coordination.info("stats")["total_commands_processed"]
    for _ in range(200):
        snapshot.get_snapshot()
    calls_after = redis_coordination.info("stats")["total_commands_processed"]
    assert calls_after - calls_before <= 3  # the INFO call itself, and perhaps one check
