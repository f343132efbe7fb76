"""The probes against the fakes served over real HTTP: configured or not, up, down
(connection refused), hanging past the deadline, refusing the token, simulated."""

from __future__ import annotations

import time
from typing import Any

import pytest

from monitor import probes
from monitor.models import Component
from tests.fakes.ocis import FakeOcis
from tests.fakes.server import FakeServer
from tests.fakes.stalwart import FakeStalwart

pytestmark = pytest.mark.django_db


def _by_component(outcomes: list[probes.Outcome]) -> dict[str, probes.Outcome]:
    return {o.component: o for o in outcomes}


def test_with_nothing_configured_only_the_database_and_cache_are_probed() -> None:
    setups = {s.component: s for s in probes.setups()}
    assert [c for c, s in setups.items() if not s.configured] == [
        Component.AUTHENTIK,
        Component.STALWART,
        Component.OCIS,
    ]
    assert setups[Component.STALWART].configure_hint == "STALWART_URL and STALWART_TOKEN"
    assert setups[Component.CACHE].backend == "local memory (this process only)"
    found = _by_component(probes.run_probes())
    assert set(found) == {Component.DATABASE, Component.CACHE}
    assert all(o.ok and o.error == "" and o.latency_ms is not None for o in found.values())


def test_a_cache_that_loses_what_it_was_given_is_down(settings: Any) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "coordination": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    outcome = _by_component(probes.run_probes())[Component.CACHE]
    assert not outcome.ok
    assert outcome.error == "A value written to the cache did not read back."


def test_redis_is_named_without_its_password(settings: Any) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "coordination": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://:hunter2@cache.example:6380/3",
        },
    }
    backend = {s.component: s for s in probes.setups()}[Component.CACHE].backend
    assert backend == "Redis at redis://cache.example:6380/3"


def test_stalwart_up_is_one_authenticated_read(fake_stalwart: FakeStalwart) -> None:
    outcome = _by_component(probes.run_probes())[Component.STALWART]
    assert outcome.ok, outcome.error
    assert isinstance(outcome.latency_ms, int)
    assert fake_stalwart.calls == [
        ("GET", f"/api/principal/{probes.STALWART_PROBE_PRINCIPAL}", None)
    ]


def test_stalwart_refusing_the_key_is_down_in_its_own_words(
    fake_stalwart: FakeStalwart, settings: Any
) -> None:
    settings.STALWART_TOKEN = "not-the-key"
    outcome = _by_component(probes.run_probes())[Component.STALWART]
    assert not outcome.ok
    assert outcome.error == "Stalwart answered 401: You have to authenticate first."


def test_a_hanging_upstream_is_cut_off_at_the_deadline(
    fake_stalwart: FakeStalwart, settings: Any
) -> None:
    settings.MONITOR_PROBE_DEADLINE_SECONDS = 0.5
    fake_stalwart.timeout_seconds = 3.0
    fake_stalwart.inject("GET", r"^/api/principal/", "timeout", times=5)
    started = time.monotonic()
    outcomes = _by_component(probes.run_probes())
    elapsed = time.monotonic() - started
    assert elapsed < 1.5, elapsed
    outcome = outcomes[Component.STALWART]
    assert not outcome.ok
    assert outcome.error == "did not answer in 0.5 s"
    assert outcomes[Component.DATABASE].ok  # the others are not held up


def test_a_stopped_upstream_is_down_with_connection_refused(settings: Any) -> None:
    with FakeServer(FakeStalwart()) as fake:
        settings.STALWART_URL, settings.STALWART_TOKEN = fake.url, fake.token
    outcome = _by_component(probes.run_probes())[Component.STALWART]
    assert not outcome.ok
    assert outcome.error == f"Stalwart at {fake.url} cannot be reached: Connection refused."


def test_ocis_up_and_its_gateway_error_page(fake_ocis: FakeOcis) -> None:
    assert _by_component(probes.run_probes())[Component.OCIS].ok
    assert fake_ocis.calls_to("GET", "/graph/v1.0/drives")
    # A 502 three times over (the client retries reads on gateway errors).
    fake_ocis.inject("GET", "/graph/v1.0/drives", "502", times=3)
    outcome = _by_component(probes.run_probes())[Component.OCIS]
    assert not outcome.ok
    assert outcome.error == "oCIS answered 502: Bad Gateway"


def test_authentik_is_probed_through_the_operators_directory(fake_authentik: Any) -> None:
    outcome = _by_component(probes.run_probes())[Component.AUTHENTIK]
    assert outcome.ok, outcome.error
    assert fake_authentik.calls_to("GET", "/api/v3/core/users/")


def test_authentik_set_while_sign_in_is_local_is_still_probed(
    fake_authentik: Any, settings: Any
) -> None:
    settings.IDENTITY_MODE = "local"
    settings.AUTHENTIK_TOKEN = "expired-token"
    outcome = _by_component(probes.run_probes())[Component.AUTHENTIK]
    assert not outcome.ok
    assert outcome.error == "Authentik answered 403: Token invalid/expired"


def test_simulated_integrations_are_never_probed(
    fake_stalwart: FakeStalwart, fake_ocis: FakeOcis, settings: Any
) -> None:
    settings.DEMO_INTEGRATIONS = True
    setups = {s.component: s for s in probes.setups()}
    assert setups[Component.STALWART].simulated and setups[Component.OCIS].simulated
    assert set(_by_component(probes.run_probes())) == {Component.DATABASE, Component.CACHE}
    assert fake_stalwart.calls == [] and fake_ocis.calls == []
