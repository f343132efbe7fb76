"""Inviting an operator: an account in the directory (Authentik, or this database),
a local user so the team list shows them at once, and one credential to hand over.

No database transaction is held open across a call to Authentik. Each step's
outcome is committed in the OperatorInvite record (without secrets), so a
failure leaves no half-made local user and a retry of the same invite picks up
where it stopped instead of making a second account: the account Authentik made
for this invite carries the invite's id in its attributes, which is how "our own
unfinished invite" is told from "someone else's account with this email".

An invite whose email belongs to someone else's account in Authentik (its email,
or its username) is recorded as BLOCKED, not FAILED: retrying cannot help until
someone changes that account. Inviting the email again re-checks (the account may
have been fixed meanwhile). An unfinished invite is discarded with
`operator_invite_discard`, which touches only this console's record, never
Authentik.

One whole invite ends within AUTHENTIK_INVITE_DEADLINE_SECONDS: each Authentik
call waits at most the time left, so a hung Authentik fails the invite in time
("did not answer in N s") instead of holding the request for the sum of timeouts.
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
from core.errors import ApplicationError, Conflict, NotFound, RateLimited, UpstreamError
from core.ratelimit import allow
from operators.directory import Directory, DirectoryError, DirectoryUser, deadline, get_directory
from operators.invite_records import (
    invite_completed,
    invite_failed,
    invite_open,
    invite_progressed,
)
from operators.models import InviteState, OperatorInvite, User, normalize_email
from operators.passwords import temporary_password

INVITE_MARKER = "dezky_invite_id"
# Longer than one invite may take (AUTHENTIK_INVITE_DEADLINE_SECONDS); an invite
# resumed less than this ago and not failed again may still be running.
INVITE_IN_FLIGHT = timedelta(minutes=2)


@dataclass(frozen=True)
class InviteResult:
    """Exactly one of `link` and `temp_password` is set.

    `link_minutes`: how long the link works (AUTHENTIK_RECOVERY_LINK_MINUTES, what the
    Authentik recovery flow's token validity is said to be; Authentik does not tell).
    `temp_password_hours`: how long an unused temporary password works, where the
    console enforces it (local mode); None where it does not (Authentik).
    """

    subject: str
    user_id: int
    email: str
    link: str | None = None
    temp_password: str | None = None
    link_minutes: int | None = None
    temp_password_hours: int | None = None

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
            with deadline(settings.AUTHENTIK_INVITE_DEADLINE_SECONDS):
                account, link, temp_password = _provision(invite, directory)
        except DirectoryError as err:
            taken = err.status == 409 or isinstance(err, AccountTaken)
            _failed(invite, err, blocked=taken, actor=actor, ip=ip)
            if taken:
                raise Conflict(err.message, field="email") from None
            raise UpstreamError(
                f"Authentik refused or failed: {_sentence(err.message)} "
                "The invite was kept; retry it.",
                extra={"upstream_status": err.status},
            ) from None
        user = _finish(invite, account, handoff="link" if link else "temp-password", actor=actor,
                       ip=ip)  # fmt: skip
    return InviteResult(
        subject=account.subject, user_id=user.pk, email=email, link=link,
        temp_password=temp_password,
        link_minutes=settings.AUTHENTIK_RECOVERY_LINK_MINUTES if link else None,
        temp_password_hours=(
            settings.TEMP_PASSWORD_HOURS if temp_password and directory.kind == "local" else None
        ),
    )  # fmt: skip


class AccountTaken(DirectoryError):
    """The email (or the username made from it) belongs to a directory account this
    invite did not make: a retry cannot help until someone changes that account."""


def directory_account(
    directory: Directory, *, email: str, name: str, group_id: str, marker: tuple[str, str]
) -> tuple[DirectoryUser, bool]:
    """The directory account for `email` and whether this call made it (in the group,
    carrying `marker` in its attributes). Found case-insensitively on every page of
    Authentik's search first, so an invite never makes a second account for an email.

    Authentik makes the email the username; when that username is held by an account
    that does not have this email (an empty or other email), nothing can be made and
    AccountTaken (409, on the email) says what to change in Authentik."""
    account = directory.find_user_by_email(email)
    if account is not None:
        return account, False
    try:
        made = directory.create_user(
            email=email, name=name, group_ids=[group_id], attributes=dict([marker])
        )
    except DirectoryError as err:
        if err.status != 400 or err.field != "username":
            raise
        account = directory.find_user_by_email(email)  # made meanwhile
        if account is None:
            raise AccountTaken(
                f"The username {email} is taken in Authentik by an account whose email is "
                "not this one, so no account can be made for it. In Authentik, rename or "
                f"remove that account, or set its email to {email} so it can be found, "
                "and invite again.",
                status=409,
                field="email",
            ) from None
        return account, False
    return made, True


def hand_over_credential(directory: Directory, account_pk: int) -> tuple[str | None, str | None]:
    """(recovery link, temporary password), exactly one set: a link when the directory
    can make one (Authentik with a recovery flow on its brand), else a new password."""
    link = directory.recovery_link(account_pk)
    if link is not None:
        return link, None
    password = temporary_password()
    directory.set_password(account_pk, password)
    return None, password


def _sentence(message: str) -> str:
    """Upstream words end without a full stop at times ("Token invalid/expired")."""
    message = message.strip()
    return message if message.endswith((".", "!", "?")) else f"{message}."


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
    return invite_open(
        OperatorInvite, match={"email": email}, values={"name": name}, directory=directory,
        actor=actor,
    )  # fmt: skip


def _provision(
    invite: OperatorInvite, directory: Directory
) -> tuple[DirectoryUser, str | None, str | None]:
    group_id = directory.ensure_group(settings.AUTHENTIK_ADMIN_GROUP)
    account, made = directory_account(
        directory, email=invite.email, name=invite.name, group_id=group_id,
        marker=(INVITE_MARKER, str(invite.id)),
    )  # fmt: skip
    if not made:
        _ours_or_taken(invite, account)  # only the account an earlier try made goes on
        directory.add_user_to_group(account.pk, group_id)
    invite_progressed(invite, account.pk)
    link, temp_password = hand_over_credential(directory, account.pk)
    return account, link, temp_password


def _ours_or_taken(invite: OperatorInvite, account: DirectoryUser) -> None:
    if account.attributes.get(INVITE_MARKER) != str(invite.id):
        raise AccountTaken(
            f"{invite.email} already belongs to an account in Authentik (pk {account.pk}). "
            "Add that account to the operators' group in Authentik instead.",
            status=409,
            field="email",
        )


def _failed(
    invite: OperatorInvite, err: DirectoryError, *, blocked: bool, actor: User, ip: str | None
) -> None:
    state = InviteState.BLOCKED if blocked else InviteState.FAILED
    invite_failed(
        invite, err, action="platform.user_invite_failed", actor=actor, ip=ip,
        target_repr=invite.email, state=state, metadata={"state": state},
    )  # fmt: skip


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
    invite_completed(invite, user=user, handoff=handoff)
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
    locked = OperatorInvite.objects.select_for_update().filter(pk=invite.pk).first()
    if locked is None:
        raise NotFound("That invite is gone already: it was discarded meanwhile.")
    invite = locked
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


@dataclass(frozen=True)
class GrantResult:
    user: User
    created: bool  # a new local user (else an existing one was made an operator)
    directory: str
    directory_user_pk: int | None


def operator_grant(*, email: str, actor: User | None = None) -> GrantResult:
    """Make an existing account an operator; `manage.py make_operator` runs it.

    Authentik mode: the first operator has no way in until someone is in the admin
    group, and the group only exists after a first invite. This finds the Authentik
    user with the email (every page of the search), makes sure of the group, adds the
    user to it, then (one transaction, after the calls) makes or updates the local
    user as an operator who signs in through Authentik, with one audit event.

    Local mode: an existing local user becomes an operator; a new one is made with
    `manage.py createsuperuser` (or the demo), since it needs a password.
    """
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(f"{email!r} is not a valid email address.", field="email") from None
    directory = get_directory()
    if directory.kind == "local":
        return _grant(email=email, account=None, directory="local", actor=actor)
    try:
        with deadline(settings.AUTHENTIK_INVITE_DEADLINE_SECONDS):
            account = directory.find_user_by_email(email)
            if account is None:
                raise NotFound(
                    f"Authentik has no user with the email {email}. Create the user in "
                    "Authentik first (or invite them from a console operator's account).",
                    field="email",
                )
            if not account.is_active:
                raise Conflict(
                    f"The Authentik user {email} (pk {account.pk}) is deactivated; "
                    "activate it in Authentik first.",
                    field="email",
                )
            group_id = directory.ensure_group(settings.AUTHENTIK_ADMIN_GROUP, verify=True)
            directory.add_user_to_group(account.pk, group_id)
    except DirectoryError as err:
        if err.status == 409:
            raise Conflict(err.message, field="email") from None
        raise UpstreamError(
            f"Authentik refused or failed: {_sentence(err.message)}",
            extra={"upstream_status": err.status},
        ) from None
    return _grant(email=email, account=account, directory="authentik", actor=actor)


@transaction.atomic
def _grant(
    *, email: str, account: DirectoryUser | None, directory: str, actor: User | None
) -> GrantResult:
    user = None
    if account is not None:
        user = User.objects.select_for_update().filter(authentik_pk=account.pk).first()
    if user is None:
        user = User.objects.select_for_update().filter(email=email).first()
    created = user is None
    if user is None:
        if account is None:
            raise NotFound(
                f"There is no user {email} here. Make one with `manage.py createsuperuser` "
                "(or load the demo), then run make_operator again.",
                field="email",
            )
        user = User(email=email)
        user.set_unusable_password()  # they sign in through Authentik
    elif account is not None and user.authentik_pk not in (None, account.pk):
        raise Conflict(
            f"The local user {user.email} is linked to another Authentik account "
            f"(pk {user.authentik_pk}), not pk {account.pk}; fix that first.",
            field="email",
        )
    if account is not None:
        user.authentik_pk = account.pk
        user.name = user.name or account.name
    user.platform_admin = True
    user.is_active = True
    user.full_clean(exclude=["password"])
    user.save()
    audit.record(
        action="platform.operator_granted",
        actor=actor,
        target=user,
        metadata={
            "email": user.email,
            "directory": directory,
            "directory_user_pk": account.pk if account else None,
            "created": created,
        },
    )
    return GrantResult(
        user=user, created=created, directory=directory,
        directory_user_pk=account.pk if account else None,
    )  # fmt: skip
