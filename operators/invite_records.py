"""The record an invite keeps of how far it got, step by step, for both kinds of
invite: an operator's (operators/invites.py, OperatorInvite) and a tenant member's
(tenants/members.py, MemberInvite).

Each step is committed on its own, so an invite that failed half-way is resumed by a
retry instead of making a second account: `invite_open` finds the unfinished record
(or makes it), `invite_progressed` notes the directory account, `invite_failed` keeps
the error and audits it, `invite_completed` closes the record inside the caller's
final transaction. Nothing here holds a credential.

Both models share the fields used here and the values of their states (STARTED,
DIRECTORY_USER_CREATED, FAILED, COMPLETED); only an operator's invite can also be
BLOCKED.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from django.db import models, transaction
from django.utils import timezone

from audit import services as audit
from operators.directory import DirectoryError
from operators.models import InviteState, User

DIRECTORY_USER_CREATED = InviteState.DIRECTORY_USER_CREATED.value
FAILED = InviteState.FAILED.value
COMPLETED = InviteState.COMPLETED.value


class InviteRecord(Protocol):
    """What OperatorInvite and MemberInvite have in common."""

    pk: Any
    email: str
    state: str
    directory: str
    directory_user_pk: int | None
    handoff: str
    last_error: str
    completed_at: Any

    def save(self, *args: Any, **kwargs: Any) -> None: ...


Record = TypeVar("Record", bound=models.Model)


def invite_open(
    model: type[Record],
    *,
    match: dict[str, Any],
    values: dict[str, Any],
    directory: str,
    actor: User,
) -> Record:
    """The unfinished invite matching `match`, row-locked, with `values` set and its
    last error cleared (a retry resumes it); or a new one made by `actor`. Runs inside
    the caller's transaction (the lock needs one)."""
    invite = (
        model._default_manager.select_for_update().exclude(state=COMPLETED).filter(**match).first()
    )
    if invite is None:
        return model._default_manager.create(
            **match, **values, directory=directory, invited_by=actor,
            invited_by_email=actor.email,
        )  # fmt: skip
    for field, value in values.items():
        setattr(invite, field, value)
    invite.last_error = ""  # type: ignore[attr-defined]
    invite.save(update_fields=[*values, "last_error", "updated_at"])
    return invite


@transaction.atomic
def invite_progressed(invite: InviteRecord, account_pk: int) -> None:
    """The directory account exists (made now, or by an earlier try): note its pk."""
    invite.state = DIRECTORY_USER_CREATED
    invite.directory_user_pk = account_pk
    invite.save(update_fields=["state", "directory_user_pk", "updated_at"])


@transaction.atomic
def invite_failed(
    invite: InviteRecord,
    err: DirectoryError,
    *,
    action: str,
    actor: User,
    ip: str | None,
    target_repr: str,
    state: str = FAILED,
    tenant: Any = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Keep the directory's error on the record (`state`: FAILED, or an operator
    invite's BLOCKED) and audit it as `action`. A local invite is one transaction that
    rolls back whole, so there is nothing to keep."""
    if invite.directory == "local":
        return
    model = type(invite)
    model._default_manager.filter(pk=invite.pk).update(  # type: ignore[attr-defined]
        state=state, last_error=err.message[:2000], updated_at=timezone.now()
    )
    audit.record(
        action=action,
        actor=actor,
        target_type=model._meta.model_name,  # type: ignore[attr-defined]
        target_id=str(invite.pk),
        target_repr=target_repr,
        tenant=tenant,
        ip=ip,
        metadata={
            "email": invite.email,
            "error": err.message[:500],
            "status": err.status,
            **(metadata or {}),
        },
    )


def invite_completed(invite: InviteRecord, *, user: User, handoff: str) -> None:
    """Close the record; inside the caller's transaction with the user it made."""
    invite.state = COMPLETED
    invite.handoff = handoff
    invite.user = user  # type: ignore[attr-defined]
    invite.last_error = ""
    invite.completed_at = timezone.now()
    invite.save()
