"""The chain against someone who can rewrite the table: keyed hashes, signed
checkpoints outside the database, and a verify that holds the chain to them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit import checkpoints, integrity, keys
from audit import services as audit
from audit.chain import GENESIS, event_hash, hashed_fields
from audit.models import AuditEvent, ChainVerification
from tests.audit.tampering import tamper
from tests.operators.factories import OperatorFactory

pytestmark = pytest.mark.django_db


def _record(n: int) -> list[AuditEvent]:
    return [
        audit.record(action="tenant.updated", target_type="tenant", target_repr=f"Sample {i}")
        for i in range(n)
    ]


def _checkpoint_file(settings: Any) -> Path:
    return Path(settings.AUDIT_CHECKPOINT_SINKS[0].removeprefix("file:"))


def _rehash_from(first_id: int, *, key: bytes | None, key_id: str) -> None:
    """Re-hash every event from `first_id` on, as an attacker with `key` would."""
    prev = (
        AuditEvent.objects.filter(id__lt=first_id)
        .order_by("-id")
        .values_list("hash", flat=True)
        .first()
        or GENESIS
    )
    for event in AuditEvent.objects.filter(id__gte=first_id).order_by("id"):
        new_hash = event_hash(prev_hash=prev, fields=hashed_fields(event), key=key)
        tamper(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s, key_id = %s WHERE id = %s",
            [prev, new_hash, key_id, event.id],
        )
        prev = new_hash


class TestKeyedChain:
    def test_events_are_signed_with_the_configured_key(self) -> None:
        event = audit.record(action="tenant.suspended", target_repr="Sample")
        assert event.key_id == keys.signing_key_id()
        expected = event_hash(
            prev_hash=event.prev_hash, fields=hashed_fields(event), key=keys.signing_key()
        )
        assert event.hash == expected
        assert event.hash != event_hash(prev_hash=event.prev_hash, fields=hashed_fields(event))

    def test_a_rewritten_row_rehashed_without_the_key_fails(self) -> None:
        events = _record(5)
        integrity.verify_chain()  # a checkpoint of the honest chain
        tamper(
            "UPDATE audit_auditevent SET actor_email = 'mallory@example.test' WHERE id = %s",
            [events[1].id],
        )
        # The project's own hash function, without the key it never had.
        _rehash_from(events[1].id, key=None, key_id=events[1].key_id)
        outcome = integrity.verify_chain()
        assert not outcome.ok
        assert outcome.broken_event_id == events[1].id
        assert "does not match its hash" in outcome.message

    def test_rehashing_everything_as_unkeyed_is_caught_by_the_checkpoint(self) -> None:
        events = _record(4)
        assert integrity.verify_chain().ok
        tamper("UPDATE audit_auditevent SET target_repr = 'forged' WHERE id = %s", [events[2].id])
        first = AuditEvent.objects.order_by("id").values_list("id", flat=True).first()
        _rehash_from(first, key=None, key_id="")  # a self-consistent, unkeyed chain
        outcome = integrity.verify_chain()
        assert not outcome.ok
        assert "checkpoint" in outcome.message

    def test_even_the_key_holder_cannot_rewrite_below_a_checkpoint(self) -> None:
        events = _record(4)
        assert integrity.verify_chain().ok
        tamper("UPDATE audit_auditevent SET target_repr = 'forged' WHERE id = %s", [events[0].id])
        _rehash_from(events[0].id, key=keys.signing_key(), key_id=keys.signing_key_id())
        outcome = integrity.verify_chain()
        assert not outcome.ok
        assert "rewritten" in outcome.message

    def test_unkeyed_events_may_only_come_before_the_keyed_ones(self) -> None:
        events = _record(3)
        _rehash_from(events[1].id, key=None, key_id="")  # keyed, then unkeyed
        outcome = integrity.verify_chain()
        assert not outcome.ok
        assert "unkeyed after the chain was keyed" in outcome.message

    def test_a_rotated_key_verifies_while_it_is_listed(self, settings: Any) -> None:
        settings.AUDIT_CHAIN_KEY = "old-key-for-rotation-test"
        _record(2)
        settings.AUDIT_CHAIN_KEY = "new-key-for-rotation-test"
        settings.AUDIT_CHAIN_PREVIOUS_KEYS = ["old-key-for-rotation-test"]
        _record(2)
        assert integrity.verify_chain().ok
        settings.AUDIT_CHAIN_PREVIOUS_KEYS = []
        outcome = integrity.verify_chain()
        assert not outcome.ok
        assert "not configured" in outcome.message


class TestCheckpoints:
    def test_verify_writes_a_signed_checkpoint_outside_the_database(self, settings: Any) -> None:
        _record(3)
        outcome = integrity.verify_chain()
        assert outcome.ok
        assert "no checkpoint yet" in outcome.message
        line = json.loads(_checkpoint_file(settings).read_text().splitlines()[-1])
        assert line["count"] == AuditEvent.objects.count()
        assert line["head_id"] == AuditEvent.objects.order_by("-id").first().id
        assert checkpoints.last() is not None

        again = integrity.verify_chain()
        assert again.ok
        assert "matches the last checkpoint" in again.message
        assert len(_checkpoint_file(settings).read_text().splitlines()) == 2

    def test_emptied_chain_fails_against_the_checkpoint(self) -> None:
        _record(3)
        assert integrity.verify_chain().ok
        tamper("DELETE FROM audit_auditevent", [])
        outcome = integrity.verify_chain()
        assert not outcome.ok
        assert "events were removed" in outcome.message

    def test_a_deleted_newest_event_fails_against_the_checkpoint(self) -> None:
        events = _record(3)
        assert integrity.verify_chain().ok
        tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].id])
        for full in (True, False):
            outcome = integrity.verify_chain(full=full)
            assert not outcome.ok, full
            assert "removed" in outcome.message or "gone" in outcome.message

    def test_a_deleted_middle_event_fails_since_the_checkpoint_too(self) -> None:
        events = _record(4)
        assert integrity.verify_chain().ok
        tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].id])
        outcome = integrity.verify_chain(full=False)
        assert not outcome.ok
        assert "counted" in outcome.message

    def test_a_forged_checkpoint_line_is_refused(self, settings: Any) -> None:
        _record(2)
        assert integrity.verify_chain().ok
        path = _checkpoint_file(settings)
        forged = json.loads(path.read_text().splitlines()[-1])
        forged["count"] = 1
        with path.open("a") as handle:
            handle.write(json.dumps(forged) + "\n")
        outcome = integrity.verify_chain()
        assert not outcome.ok
        assert "forged" in outcome.message

    def test_an_unwritable_sink_fails_the_check_instead_of_skipping(
        self, settings: Any, tmp_path: Path
    ) -> None:
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("")
        settings.AUDIT_CHECKPOINT_SINKS = [f"file:{blocker}/checkpoints.jsonl"]
        _record(1)
        outcome = integrity.verify_chain()
        assert not outcome.ok
        assert "cannot write the checkpoint file" in outcome.message

    def test_an_unknown_sink_is_a_clear_error(self, settings: Any) -> None:
        settings.AUDIT_CHECKPOINT_SINKS = ["s3://bucket/key"]
        outcome = integrity.verify_chain()
        assert not outcome.ok
        assert "unknown checkpoint sink" in outcome.message

    def test_new_events_after_a_checkpoint_verify_since_it(self) -> None:
        _record(2)
        assert integrity.verify_chain().ok
        _record(3)
        outcome = integrity.checkpoint_now()
        assert outcome.ok
        assert outcome.checked == AuditEvent.objects.count()
        assert not outcome.full


class TestVerificationRecords:
    def test_each_run_is_remembered_and_a_person_s_run_is_audited(self) -> None:
        operator = OperatorFactory()
        _record(1)
        integrity.verify_chain(actor=operator, ip="192.0.2.1")
        last = integrity.last_verification()
        assert last is not None and last.ok and last.actor_email == operator.email
        newest = AuditEvent.objects.order_by("-id").first()
        assert newest.action == "audit.chain_verified"
        assert newest.actor_id == operator.pk

    def test_a_scheduled_success_writes_no_event(self) -> None:
        _record(1)
        before = AuditEvent.objects.count()
        integrity.checkpoint_now()
        assert AuditEvent.objects.count() == before
        assert ChainVerification.objects.count() == 1

    def test_a_break_is_recorded_once_until_it_changes(self) -> None:
        events = _record(2)
        tamper("UPDATE audit_auditevent SET target_repr = 'x' WHERE id = %s", [events[0].id])
        integrity.verify_chain()
        integrity.verify_chain()
        assert AuditEvent.objects.filter(action="audit.chain_broken").count() == 1
        assert ChainVerification.objects.filter(ok=False).count() == 2


class TestCommands:
    def test_verify_audit_chain_exits_1_after_truncation(self, capsys: Any) -> None:
        _record(2)
        call_command("verify_audit_chain")
        assert "Audit chain intact" in capsys.readouterr().out
        tamper("DELETE FROM audit_auditevent", [])
        with pytest.raises(CommandError, match="NOT intact"):
            call_command("verify_audit_chain")

    def test_since_checkpoint_mode(self, capsys: Any) -> None:
        _record(2)
        call_command("verify_audit_chain")
        _record(1)
        call_command("verify_audit_chain", "--since-checkpoint")
        assert "since the last checkpoint" in capsys.readouterr().out


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL roles and triggers")
class TestTheOldAttacksOnPostgres:
    """The three attacks that used to pass `verify_audit_chain`, as a superuser could run them."""

    def test_the_maintenance_switch_is_gone(self) -> None:
        from django.db import DatabaseError, transaction

        from tests.conftest import AUDIT_TRUNCATE_TRIGGER

        _record(1)
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"ALTER TABLE audit_auditevent ENABLE TRIGGER {AUDIT_TRUNCATE_TRIGGER}")
            cursor.execute("SET LOCAL dezky.audit_maintenance = 'on'")
            cursor.execute("TRUNCATE audit_auditevent")

    def test_replication_role_delete_of_the_newest_event_is_detected(self) -> None:
        events = _record(3)
        assert integrity.verify_chain().ok
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].id])
            cursor.execute("SET LOCAL session_replication_role = origin")
        assert not integrity.verify_chain().ok


def _truncate(events: list[AuditEvent]) -> None:
    # As the table's owner would: with the triggers off (on SQLite there are none).
    sql = (
        "TRUNCATE audit_auditevent"
        if connection.vendor == "postgresql"
        else "DELETE FROM audit_auditevent"
    )
    tamper(sql, [])


def _delete_newest(events: list[AuditEvent]) -> None:
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].id])


def _rewrite_and_rehash(events: list[AuditEvent]) -> None:
    tamper(
        "UPDATE audit_auditevent SET actor_email = 'mallory@example.test' WHERE id = %s",
        [events[0].id],
    )
    _rehash_from(events[0].id, key=None, key_id=events[0].key_id)


@pytest.mark.parametrize("attack", [_truncate, _delete_newest, _rewrite_and_rehash])
def test_verify_audit_chain_fails_after_each_known_attack(attack: Any, capsys: Any) -> None:
    """The three attacks that used to leave `verify_audit_chain` saying "intact"."""
    events = _record(3)
    call_command("verify_audit_chain")  # the checkpoint an attacker cannot rewrite
    assert "intact" in capsys.readouterr().out
    attack(events)
    with pytest.raises(CommandError, match="NOT intact"):
        call_command("verify_audit_chain")
    with pytest.raises(CommandError, match="NOT intact"):
        call_command("verify_audit_chain", "--since-checkpoint")


def test_a_new_database_against_an_old_checkpoint_file_says_so() -> None:
    _record(2)
    assert integrity.verify_chain().ok
    tamper("DELETE FROM audit_auditevent", [])
    _record(2)  # a fresh chain, as a new database would start
    outcome = integrity.verify_chain()
    assert not outcome.ok
    assert "or this is another database" in outcome.message
