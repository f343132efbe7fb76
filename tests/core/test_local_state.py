"""A process-local snapshot is rebuilt by one thread while the others keep answering
from the previous one: a slow rebuild never queues the requests behind it."""

from __future__ import annotations

import threading

import pytest

from core import versions

NAME = "local_state_test"
pytestmark = pytest.mark.django_db


@pytest.fixture
def state():
    return versions.LocalState(NAME, check_seconds=lambda: 0.0)


def test_the_first_build_is_waited_for_and_later_ones_serve_the_previous(state):
    assert state.get(lambda at: ("first", at))[0] == "first"
    versions.bump(NAME)
    started, release = threading.Event(), threading.Event()
    seen: list[object] = []

    def slow_build(at):
        started.set()
        assert release.wait(10)
        return ("second", at)

    builder = threading.Thread(target=lambda: seen.append(state.get(slow_build)))
    builder.start()
    assert started.wait(10)
    # While the rebuild runs, another caller gets the previous value at once.
    assert state.get(lambda at: pytest.fail("only one thread rebuilds"))[0] == "first"
    release.set()
    builder.join(10)
    assert seen[0][0] == "second"
    assert state.get(lambda at: pytest.fail("nothing moved"))[0] == "second"


def test_a_rebuild_the_database_fails_serves_the_previous_value_until_it_works(state):
    from django.db import DatabaseError

    state.get(lambda at: "first")
    versions.bump(NAME)

    def broken(at):
        raise DatabaseError("the database is away")

    assert state.get(broken) == "first"
    assert state.get(lambda at: "second") == "second"


def test_the_first_build_failing_is_an_error(state):
    from django.db import DatabaseError

    def broken(at):
        raise DatabaseError("the database is away")

    with pytest.raises(DatabaseError):
        state.get(broken)
    assert state.get(lambda at: "first") == "first"
