"""The client's address comes from X-Forwarded-For only as far as TRUSTED_PROXIES vouches."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import reverse

from audit.models import AuditEvent
from core.checks import proxy_deployment
from core.request_meta import client_ip, limiter_scope, parse_trusted_proxies
from tests.operators.factories import OperatorFactory

PROXY = "10.0.0.5"  # the proxy in front, as REMOTE_ADDR sees it
REAL = "198.51.100.23"  # the caller, as the proxy saw it

GARBAGE = [
    "",
    "   ",
    "unknown",
    "<script>",
    "1.2.3.4.5",
    "1.2.3.4:8080",
    "[2001:db8::1]:443",
    "[2001:db8::1]",
    "2001:db8::1:443x",
    "fe80::1%eth0",
    "999.1.1.1",
    "x" * 5000,
    "\x00",
]


def _ip(
    settings: Any, trusted: list[str], forwarded: str | None, remote: str = PROXY
) -> str | None:
    settings.TRUSTED_PROXIES = trusted
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **meta))


class TestNoTrustedProxies:
    def test_the_header_is_ignored_even_behind_a_tls_proxy(self, settings: Any) -> None:
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        assert _ip(settings, [], "203.0.113.9") == PROXY

    def test_a_missing_or_garbage_remote_addr_is_no_address(self, settings: Any) -> None:
        assert _ip(settings, [], None, remote="") is None
        assert _ip(settings, [], None, remote="garbage") is None


class TestCountMode:
    def test_the_nth_entry_from_the_right_is_the_caller(self, settings: Any) -> None:
        assert _ip(settings, ["1"], f"203.0.113.9, {REAL}") == REAL
        assert _ip(settings, ["2"], f"203.0.113.9, {REAL}, 10.0.0.7") == REAL

    def test_what_the_client_wrote_on_the_left_changes_nothing(self, settings: Any) -> None:
        answers = {_ip(settings, ["1"], f"192.0.2.{n}, {REAL}") for n in range(20)}
        assert answers == {REAL}

    def test_fewer_entries_than_proxies_fall_back_to_the_peer(self, settings: Any) -> None:
        assert _ip(settings, ["2"], REAL) == PROXY
        assert _ip(settings, ["1"], None) == PROXY
        assert _ip(settings, ["1"], "") == PROXY

    @pytest.mark.parametrize("entry", GARBAGE)
    def test_a_malformed_entry_is_never_the_answer(self, settings: Any, entry: str) -> None:
        assert _ip(settings, ["1"], f"{REAL}, {entry}") == PROXY


class TestNetworkMode:
    TRUSTED = ["10.0.0.0/8", "192.168.1.1"]

    def test_trusted_hops_are_skipped_from_the_right(self, settings: Any) -> None:
        assert _ip(settings, self.TRUSTED, f"203.0.113.9, {REAL}, 192.168.1.1, 10.9.9.9") == REAL

    def test_a_forged_left_entry_is_not_reached(self, settings: Any) -> None:
        answers = {_ip(settings, self.TRUSTED, f"192.0.2.{n}, {REAL}") for n in range(20)}
        assert answers == {REAL}

    def test_an_untrusted_peer_makes_the_header_worthless(self, settings: Any) -> None:
        assert _ip(settings, self.TRUSTED, "203.0.113.9", remote=REAL) == REAL

    def test_all_trusted_hops_give_the_leftmost(self, settings: Any) -> None:
        assert _ip(settings, self.TRUSTED, "10.1.1.1, 10.2.2.2") == "10.1.1.1"
        assert _ip(settings, self.TRUSTED, None) == PROXY

    @pytest.mark.parametrize("entry", GARBAGE)
    def test_a_malformed_entry_stops_at_the_last_trusted_hop(
        self, settings: Any, entry: str
    ) -> None:
        assert _ip(settings, self.TRUSTED, f"{REAL}, {entry}, 10.7.7.7") == "10.7.7.7"
        assert _ip(settings, self.TRUSTED, f"{REAL}, {entry}") == PROXY

    def test_ipv6_hops_and_caller(self, settings: Any) -> None:
        trusted = ["2001:db8:ffff::/48"]
        got = _ip(settings, trusted, "2001:db8:1::5, 2001:db8:ffff::1", remote="2001:db8:ffff::2")
        assert got == "2001:db8:1::5"
        # Written in full, it still comes back in its one canonical form.
        got = _ip(
            settings, trusted, "2001:0db8:0001:0000:0000:0000:0000:0005", remote="2001:db8:ffff::2"
        )
        assert got == "2001:db8:1::5"

    def test_an_ipv4_mapped_peer_matches_its_ipv4_network(self, settings: Any) -> None:
        assert _ip(settings, self.TRUSTED, REAL, remote="::ffff:10.0.0.5") == REAL


class TestSetting:
    @pytest.mark.parametrize(
        ("value", "count", "networks"),
        [
            ([], 0, 0),
            (["2"], 2, 0),
            (["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"], 0, 3),
            ([" 10.0.0.1 ", ""], 0, 1),
        ],
    )
    def test_valid_values(self, value: list[str], count: int, networks: int) -> None:
        trust = parse_trusted_proxies(value)
        assert (trust.count, len(trust.networks)) == (count, networks)

    @pytest.mark.parametrize(
        "value", [["10.0.0.0/33"], ["proxy.internal"], ["0"], ["1", "10.0.0.1"], ["-1"]]
    )
    def test_a_bad_value_names_the_setting(self, value: list[str]) -> None:
        with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
            parse_trusted_proxies(value)

    def test_startup_refuses_a_bad_value(self, settings: Any) -> None:
        settings.TRUSTED_PROXIES = ["10.0.0.0/33"]
        with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
            apps.get_app_config("core").ready()

    def test_deploy_check_warns_behind_a_proxy_without_trusted_proxies(self, settings: Any) -> None:
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        settings.TRUSTED_PROXIES = []
        assert [w.id for w in proxy_deployment()] == ["core.W001"]
        settings.TRUSTED_PROXIES = ["1"]
        assert proxy_deployment() == []
        settings.SECURE_PROXY_SSL_HEADER = None
        settings.TRUSTED_PROXIES = []
        assert proxy_deployment() == []

    def test_deploy_check_warns_when_every_address_is_trusted(self, settings: Any) -> None:
        settings.TRUSTED_PROXIES = ["10.0.0.0/8", "::/0"]
        assert [w.id for w in proxy_deployment()] == ["core.W002"]


def test_ipv6_callers_are_limited_per_64() -> None:
    assert limiter_scope("2001:db8:1:2:aaaa::1") == limiter_scope("2001:db8:1:2:bbbb::9")
    assert limiter_scope("2001:db8:1:2::1") != limiter_scope("2001:db8:1:3::1")
    assert limiter_scope(REAL) == REAL


@pytest.mark.django_db
class TestSignInBehindAProxy:
    """The attack found on a running console: a changing first entry per attempt."""

    def _spray(self, client: Any, attempts: int) -> list[int]:
        statuses = []
        for n in range(attempts):
            response = client.post(
                reverse("operators:login"),
                # A different account each time, so only the per-address limit applies.
                {"email": f"guess{n}@northwind.example", "password": "wrong"},
                HTTP_X_FORWARDED_FOR=f"192.0.2.{n % 250}, {REAL}",
                REMOTE_ADDR=PROXY,
            )
            statuses.append(response.status_code)
        return statuses

    @pytest.mark.parametrize("trusted", [["1"], ["10.0.0.0/8"]])
    def test_a_forged_first_entry_does_not_escape_the_address_limit(
        self, client: Any, settings: Any, trusted: list[str]
    ) -> None:
        settings.TRUSTED_PROXIES = trusted
        settings.LOGIN_FAILURES_PER_IP = 30
        settings.LOGIN_FAILURES_PER_ACCOUNT = 5
        statuses = self._spray(client, 60)
        assert statuses[:30] == [200] * 30
        assert statuses[30:] == [429] * 30
        failed = AuditEvent.objects.filter(action="user.login_failed")
        assert failed.count() == 30
        assert set(failed.values_list("actor_ip", flat=True)) == {REAL}
        throttled = AuditEvent.objects.filter(action="user.login_throttled")
        assert set(throttled.values_list("actor_ip", flat=True)) == {REAL}

    def test_a_signed_in_event_records_the_real_address(self, client: Any, settings: Any) -> None:
        settings.TRUSTED_PROXIES = ["1"]
        operator = OperatorFactory(email="pat.rivera@northwind.example")
        response = client.post(
            reverse("operators:login"),
            {"email": operator.email, "password": "correct horse battery"},
            HTTP_X_FORWARDED_FOR=f"192.0.2.1, {REAL}",
            REMOTE_ADDR=PROXY,
        )
        assert response.status_code == 302
        event = AuditEvent.objects.get(action="user.logged_in")
        assert event.actor_ip == REAL

    @pytest.mark.parametrize("entry", GARBAGE)
    def test_a_garbage_header_never_breaks_sign_in(
        self, client: Any, settings: Any, entry: str
    ) -> None:
        settings.TRUSTED_PROXIES = ["1"]
        response = client.post(
            reverse("operators:login"),
            {"email": "pat.rivera@northwind.example", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=entry,
            REMOTE_ADDR=PROXY,
        )
        assert response.status_code == 200
        event = AuditEvent.objects.get(action="user.login_failed")
        assert event.actor_ip == PROXY
