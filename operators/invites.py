"""Inviting an operator: an account in the directory (Authentik, or this database),
a local user so the team list shows them at once, and one credential to hand over.

No database transaction is held open across a call to Authentik. Each step's
outcome is committed in the OperatorInvite record (without secrets), so a
failure leaves no half-made local user and a retry of the same invite picks up
where it stopped instead of making a second account: the account Authentik made
for this invite carries the invite's id in its attributes, which is how "our own
unfinished invite" is told from "someone else's account with this email".

An unfinished invite that will never finish (the email belongs to someone else's
account) is discarded with `operator_invite_discard`, which touches only this
console's record, never Authentik.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from audit import services as audit
from core.errors import Conflict, NotFound, RateLimited, UpstreamError
from core.ratelimit import allow
from operators.directory import DirectoryError, DirectoryUser, get_directory
from operators.models import InviteState, OperatorInvite, User, normalize_email
from operators.passwords import temporary_password

INVITE_MARKER = "dezky_invite_id"
# Longer than one invite's calls to Authentik at their timeouts with retries; an
# invite resumed less than this ago and not failed again may still be running.
INVITE_IN_FLIGHT = timedelta(minutes=2)


@dataclass(frozen=True)
class InviteResult:
    """Exactly one of `link` and `temp_password` is set."""

    subject: str
    user_id: int
    email: str
    link: str | None = None
    temp_password: str | None = None

    @property
    def handoff(self) -> str:
        return "link" if self.link else "temp-password"


def operator_invite(*, name: str, email: str, actor: User, ip: str | None = None) -> InviteResult:
    name, email = name.strip(), normalize_email(email)
    _validate(name, email)
    if not allow(f"invite:{actor.pk}", limit=settings.INVITES_PER_MINUTE):
        raise RateLimited(
            f"At most {settings.INVITES_PER_MINUTE} invites a minute; wait a moment and retry."
        )
    directory = get_directory()
    # The local directory makes no HTTP call, so its whole invite is one transaction.
    with transaction.atomic() if directory.kind == "local" else nullcontext():
        invite = _start(name=name, email=email, actor=actor, directory=directory.kind)
        try:
            account, link, temp_password = _provision(invite, directory)
        except DirectoryError as err:
            _failed(invite, err, actor=actor, ip=ip)
            if err.status == 409 or isinstance(err, _TakenError):
                raise Conflict(err.message, field="email") from None
            raise UpstreamError(
                f"Authentik refused or failed: {err.message} The invite was kept; retry it.",
                extra={"upstream_status": err.status},
            ) from None
        user = _finish(invite, account, handoff="link" if link else "temp-password", actor=actor,
                       ip=ip)  # fmt: skip
    return InviteResult(
        subject=account.subject, user_id=user.pk, email=email, link=link,
        temp_password=temp_password,
    )  # fmt: skip


class _TakenError(DirectoryError):
    """The email belongs to a directory account this invite did not make."""


def _validate(name: str, email: str) -> None:
    errors = {}
    if not name:
        errors["name"] = ["Give the operator's name."]
    elif len(name) > 200:
        errors["name"] = ["At most 200 characters."]
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Enter a valid email address."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def _start(*, name: str, email: str, actor: User, directory: str) -> OperatorInvite:
    """Refuse a taken email; otherwise the open invite for it, new or resumed."""
    if User.objects.filter(email=email).exists():
        raise Conflict(f"{email} already has an account here.", field="email")
    invite = (
        OperatorInvite.objects.select_for_update()
        .exclude(state=InviteState.COMPLETED)
        .filter(email=email)
        .first()
    )
    if invite is None:
        return OperatorInvite.objects.create(
            email=email, name=name, directory=directory, invited_by=actor,
            invited_by_email=actor.email,
        )  # fmt: skip
    invite.name = name
    invite.last_error = ""
    invite.save(update_fields=["name", "last_error", "updated_at"])
    return invite


def _provision(invite: OperatorInvite, directory) -> tuple[DirectoryUser, str | None, str | None]:
    group_id = directory.ensure_group(settings.AUTHENTIK_ADMIN_GROUP)
    account = directory.find_user_by_email(invite.email)
    if account is None:
        try:
            account = directory.create_user(
                email=invite.email,
                name=invite.name,
                group_ids=[group_id],
                attributes={INVITE_MARKER: str(invite.id)},
            )
        except DirectoryError as err:
            if err.status != 400 or err.field != "username":
                raise
            account = directory.find_user_by_email(invite.email)  # made meanwhile
            if account is None:
                raise
            _ours_or_taken(invite, account)
    else:
        _ours_or_taken(invite, account)
        directory.add_user_to_group(account.pk, group_id)
    _progress(invite, account)
    link = directory.recovery_link(account.pk)
    temp_password = None
    if link is None:
        temp_password = temporary_password()
        directory.set_password(account.pk, temp_password)
    return account, link, temp_password


def _ours_or_taken(invite: OperatorInvite, account: DirectoryUser) -> None:
    if account.attributes.get(INVITE_MARKER) != str(invite.id):
        raise _TakenError(
            f"{invite.email} already belongs to an account in Authentik (pk {account.pk}). "
            "Add that account to the operators' group in Authentik instead.",
            status=409,
            field="email",
        )


@transaction.atomic
def _progress(invite: OperatorInvite, account: DirectoryUser) -> None:
    invite.state = InviteState.DIRECTORY_USER_CREATED
    invite.directory_user_pk = account.pk
    invite.save(update_fields=["state", "directory_user_pk", "updated_at"])


@transaction.atomic
def _failed(invite: OperatorInvite, err: DirectoryError, *, actor: User, ip: str | None) -> None:
    if invite.directory == "local":
        return  # rolled back with the rest of the local invite
    OperatorInvite.objects.filter(pk=invite.pk).update(
        state=InviteState.FAILED, last_error=err.message[:2000], updated_at=timezone.now()
    )
    audit.record(
        action="platform.user_invite_failed",
        actor=actor,
        target_type="operatorinvite",
        target_id=str(invite.pk),
        target_repr=invite.email,
        ip=ip,
        metadata={"email": invite.email, "error": err.message[:500], "status": err.status},
    )


@transaction.atomic
def _finish(
    invite: OperatorInvite, account: DirectoryUser, *, handoff: str, actor: User, ip: str | None
) -> User:
    """The local operator, the finished invite and the audit event, in one commit."""
    user = User.objects.filter(email=invite.email).first()
    if user is None:
        user = User(email=invite.email)
    user.name = invite.name
    user.platform_admin = True
    user.is_active = True
    if invite.directory == "authentik":
        user.authentik_pk = account.pk
        user.set_unusable_password()  # they sign in through Authentik
    user.full_clean(exclude=["password"])
    user.save()
    invite.state = InviteState.COMPLETED
    invite.handoff = handoff
    invite.user = user
    invite.last_error = ""
    invite.completed_at = timezone.now()
    invite.save()
    audit.record(
        action="platform.user_invited",
        actor=actor,
        target=user,
        ip=ip,
        metadata={
            "email": user.email,
            "handoff": handoff,
            "directory": invite.directory,
            "directory_user_pk": account.pk,
            "invite_id": str(invite.pk),
        },
    )
    return user


@transaction.atomic
def operator_invite_discard(
    *, invite: OperatorInvite, actor: User | None, ip: str | None = None
) -> None:
    """Remove an unfinished invite from the team page, for good.

    Only this console's record goes: Authentik is not called, so an account it already
    made for the invite stays there (the audit event keeps its pk). Deleting the row
    also frees the email for a new invite.
    """
    invite = OperatorInvite.objects.select_for_update().filter(pk=invite.pk).first()
    if invite is None:
        raise NotFound("That invite is gone already: it was discarded meanwhile.")
    if invite.state == InviteState.COMPLETED:
        raise Conflict(f"The invite of {invite.email} has finished; there is nothing to discard.")
    # TRICKY: a retry clears last_error and runs its Authentik calls outside any
    # transaction; deleting the row under it would fail it part-way. A failure writes
    # last_error again, so a failed invite can always be discarded at once.
    if not invite.last_error and invite.updated_at > timezone.now() - INVITE_IN_FLIGHT:
        raise Conflict(
            f"The invite of {invite.email} may still be running; "
            "wait a minute and discard it if it is still here."
        )
    pk, email = str(invite.pk), invite.email
    metadata = {
        "email": email,
        "name": invite.name,
        "state": invite.state,
        "directory": invite.directory,
        "directory_user_pk": invite.directory_user_pk,
        "last_error": invite.last_error[:500],
        "invite_id": pk,
    }
    invite.delete()
    audit.record(
        action="platform.invite_discarded",
        actor=actor,
        target_type="operatorinvite",
        target_id=pk,
        target_repr=email,
        ip=ip,
        metadata=metadata,
    )
