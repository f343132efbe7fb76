from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from core.errors import Conflict, NotFound
from flags import services
from flags.models import HISTORY_KEPT, Flag, FlagChange
from tests.audit_helpers import watch_audit
from tests.operators.factories import OperatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor():
    return OperatorFactory(email="ops@dezky.example")


def test_create_writes_history_and_one_audit_event(actor) -> None:
    with watch_audit() as log:
        flag = services.flag_create(key="sample_new", description="d", actor=actor)
    event = log.one("flag.created", actor=actor)
    assert event.metadata["after"]["state"] == "off"
    change = flag.history.get()
    assert change.actor_email == "ops@dezky.example"
    assert change.changes["description"] == {"before": None, "after": "d"}


def test_update_bumps_the_version_and_records_before_and_after(actor) -> None:
    flag = services.flag_create(key="sample_new", actor=actor)
    with watch_audit() as log:
        flag = services.flag_update(
            key="sample_new", state="rollout", pct=25, expected_version=1, actor=actor
        )
    assert flag.version == 2
    event = log.one("flag.updated", actor=actor)
    assert event.metadata["changes"] == {
        "state": {"before": "off", "after": "rollout"},
        "pct": {"before": 0, "after": 25},
    }
    assert flag.history.first().changes == event.metadata["changes"]


def test_a_stale_version_is_a_conflict_and_changes_nothing(actor) -> None:
    services.flag_create(key="sample_new", actor=actor)
    services.flag_update(key="sample_new", pct=10, expected_version=1, actor=actor)
    with watch_audit() as log, pytest.raises(Conflict) as exc:
        services.flag_update(key="sample_new", pct=90, expected_version=1, actor=actor)
    assert exc.value.extra == {"current_version": 2}
    log.none()
    assert Flag.objects.get(key="sample_new").pct == 10


def test_an_out_of_range_pct_names_the_field_and_changes_nothing(actor) -> None:
    services.flag_create(key="sample_new", actor=actor)
    with watch_audit() as log, pytest.raises(ValidationError) as exc:
        services.flag_update(key="sample_new", pct=101, actor=actor)
    assert "pct" in exc.value.message_dict
    log.none()
    flag = Flag.objects.get(key="sample_new")
    assert (flag.pct, flag.version, flag.history.count()) == (0, 1, 1)


def test_turning_a_flag_fully_off_is_recorded_as_killed(actor) -> None:
    services.flag_create(key="sample_new", state="rollout", pct=30, actor=actor)
    with watch_audit() as log:
        services.flag_update(key="sample_new", state="off", pct=0, actor=actor)
    log.one("flag.killed", actor=actor)


def test_history_keeps_the_newest_twenty_while_audit_keeps_all(actor) -> None:
    services.flag_create(key="sample_new", actor=actor)
    with watch_audit() as log:
        for pct in range(1, 26):
            services.flag_update(key="sample_new", pct=pct, actor=actor)
    flag = Flag.objects.get(key="sample_new")
    kept = list(flag.history.all())
    assert len(kept) == HISTORY_KEPT
    assert kept[0].changes["pct"]["after"] == 25
    assert kept[-1].changes["pct"]["after"] == 25 - HISTORY_KEPT + 1
    assert len(log.events) == 25


def test_delete_removes_flag_and_history_but_not_the_audit(actor) -> None:
    services.flag_create(key="sample_new", actor=actor)
    with watch_audit() as log:
        services.flag_delete(key="sample_new", actor=actor)
    event = log.one("flag.deleted", actor=actor)
    assert event.target_repr == "sample_new"
    assert not FlagChange.objects.filter(flag__key="sample_new").exists()


def test_an_unknown_key_is_not_found(actor) -> None:
    with pytest.raises(NotFound, match="nope_flag"):
        services.flag_update(key="nope_flag", pct=1, actor=actor)


def test_a_deleted_key_is_never_reused(actor) -> None:
    services.flag_create(key="sample_new", actor=actor)
    services.flag_delete(key="sample_new", actor=actor)
    with watch_audit() as log, pytest.raises(Conflict, match="never reused"):
        services.flag_create(key="sample_new", actor=actor)
    log.none()
