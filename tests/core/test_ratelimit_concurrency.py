"""The sign-in limit holds when attempts race: across threads, across worker processes
sharing the file cache (the default without Redis), and through Redis."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from django.db import connections
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from core import ratelimit
from operators.views import auth
from tests.operators.factories import OperatorFactory

REDIS_URL = os.environ.get("TEST_REDIS_URL_RATELIMIT", "redis://127.0.0.1:6379/14")
FORK = multiprocessing.get_context("fork")
LIMIT = 5
ATTEMPTS = 40


# Windows are fixed: a test that straddles a window's edge would count in two buckets
# and let twice the limit through. Windows this long have no edge for decades.
WINDOW = 10**9


@pytest.fixture(autouse=True)
def _one_window(settings: Any) -> None:
    settings.LOGIN_FAILURE_WINDOW_SECONDS = WINDOW


def _file_cache(settings: Any, directory: Any) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "coordination": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(directory),
            "TIMEOUT": None,
        },
    }


@contextmanager
def _redis_cache(settings: Any) -> Iterator[None]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} is unreachable and CI=true")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable")
    prefix = f"dezky-test-ratelimit-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        **settings.CACHES,
        "coordination": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
            "TIMEOUT": None,
        },
    }
    try:
        yield
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()


@pytest.fixture(params=["locmem", "file", "redis"])
def coordination(request: Any, settings: Any, tmp_path: Any) -> Iterator[str]:
    """The coordination cache as each deployment has it."""
    if request.param == "redis":
        with _redis_cache(settings):
            yield request.param
        return
    if request.param == "file":
        _file_cache(settings, tmp_path / "coordination")
    yield request.param


@pytest.fixture(params=["file", "redis"])
def shared_coordination(request: Any, settings: Any, tmp_path: Any) -> Iterator[str]:
    """The coordination caches that several processes share."""
    if request.param == "redis":
        with _redis_cache(settings):
            yield request.param
        return
    _file_cache(settings, tmp_path / "coordination")
    yield request.param


def _run_processes(target: Any, processes: int, *args: Any) -> None:
    started = [FORK.Process(target=target, args=args) for _ in range(processes)]
    for process in started:
        process.start()
    for process in started:
        process.join(timeout=60)
        assert process.exitcode == 0, "a worker process failed"


def _hit_many(barrier: Any, results: Any, hits: int) -> None:
    barrier.wait(timeout=30)
    for _ in range(hits):
        results.put(ratelimit.hit("race", window_seconds=WINDOW))


def test_hits_from_many_processes_are_each_counted_once(shared_coordination: str) -> None:
    processes, hits = 8, 25
    barrier, results = FORK.Barrier(processes), FORK.Queue()
    _run_processes(_hit_many, processes, barrier, results, hits)
    counts = [results.get(timeout=10) for _ in range(processes * hits)]
    # Every hit got its own count: none lost, none seen twice.
    assert sorted(counts) == list(range(1, processes * hits + 1))
    assert ratelimit.count("race", window_seconds=WINDOW) == processes * hits


def _attempt_sign_ins(barrier: Any, checks: Any, attempts: int) -> None:
    barrier.wait(timeout=30)
    for _ in range(attempts):
        attempt = auth._reserve_attempt("pat.rivera@northwind.example", "198.51.100.23")
        if attempt.refusal is None:
            with checks.get_lock():
                checks.value += 1
            time.sleep(0.02)  # the password check: slow, as a real hasher is


def test_sign_in_attempts_from_many_processes_check_at_most_the_limit(
    shared_coordination: str, settings: Any
) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = LIMIT
    processes = 8
    barrier, checks = FORK.Barrier(processes), FORK.Value("i", 0)
    _run_processes(_attempt_sign_ins, processes, barrier, checks, ATTEMPTS // processes)
    assert checks.value == LIMIT


def test_a_reservation_given_back_frees_its_place(coordination: str) -> None:
    first = ratelimit.reserve("give-back", limit=1, window_seconds=600)
    assert first.allowed
    assert not ratelimit.reserve("give-back", limit=1, window_seconds=600).allowed
    ratelimit.give_back(first)
    assert ratelimit.count("give-back", window_seconds=600) == 1


def test_allow_still_counts_to_its_limit(coordination: str) -> None:
    assert [ratelimit.allow("allow", limit=3, window_seconds=60) for _ in range(5)] == [
        True,
        True,
        True,
        False,
        False,
    ]


_database_turn = threading.Lock()


def _one_at_a_time(service: Any) -> Any:
    def serialized(**kwargs: Any) -> Any:
        with _database_turn:
            return service(**kwargs)

    return serialized


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_check_the_password_at_most_the_limit(
    coordination: str, settings: Any, monkeypatch: Any
) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = LIMIT
    OperatorFactory(email="pat.rivera@northwind.example")
    checks: list[str] = []
    lock = threading.Lock()
    real_authenticate = auth.authenticate

    def counting_authenticate(*args: Any, **kwargs: Any) -> Any:
        with lock:
            checks.append(kwargs["username"])
        time.sleep(0.02)  # a real hasher is slow: every racer is in flight together
        return real_authenticate(*args, **kwargs)

    monkeypatch.setattr(auth, "authenticate", counting_authenticate)
    if connections["default"].vendor == "sqlite":
        # TRICKY: the in-memory test database is one SQLite shared cache, whose second
        # writer fails at once ("table is locked") where a database file would wait.
        # The audit writes take turns here; the race under test (reserve, then check
        # the password) happens before them, untouched.
        for name in ("user_login_failed", "user_login_refused"):
            monkeypatch.setattr(auth.services, name, _one_at_a_time(getattr(auth.services, name)))
    barrier = threading.Barrier(ATTEMPTS)
    statuses: list[int] = []

    def attempt() -> None:
        try:
            client = Client()
            barrier.wait(timeout=30)
            response = client.post(
                reverse("operators:login"),
                {"email": "pat.rivera@northwind.example", "password": "wrong"},
            )
            with lock:
                statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(checks) == LIMIT
    assert sorted(statuses) == [200] * LIMIT + [429] * (ATTEMPTS - LIMIT)
    assert AuditEvent.objects.filter(action="user.login_failed").count() == LIMIT


@pytest.mark.django_db
def test_a_right_password_does_not_use_up_the_limit(client: Any, settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 2
    operator = OperatorFactory(email="pat.rivera@northwind.example")
    form = {"email": operator.email, "password": "correct horse battery"}
    for _ in range(5):
        assert client.post(reverse("operators:login"), form).status_code == 302
        client.logout()
    wrong = {**form, "password": "wrong"}
    assert [client.post(reverse("operators:login"), wrong).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
