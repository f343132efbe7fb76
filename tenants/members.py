"""A tenant's members: inviting a person, changing their role, removing them.

Inviting works like inviting an operator (operators/invites.py) and keeps the same
promises: no database transaction is held open across a call to Authentik; each
step's outcome is committed in a MemberInvite record (without secrets); a retry of
the same invite finishes it and never makes a second account, because the account
made for an invite carries the invite's id in its attributes.

What differs, and why: a person who already has an Authentik account is normal here
(they are a member of another tenant, or use another app behind the same Authentik),
so an existing account is not refused as it is for operators. It is added to the
tenant's group and gets its Membership, without a new credential (they sign in as
they already do), and the answer says so. Refused are only: an operator (they see
every tenant already, and their account must not pick up a tenant's group by
accident), someone who is already a member of this tenant, and a deleted tenant.

Removing a member takes their account out of the tenant's group in Authentik (the
account itself stays: it may serve other tenants) and deletes the Membership. A
tenant always keeps at least one owner: the last owner can be neither removed nor
demoted; the owners are counted under a row lock, so two concurrent changes cannot
remove the last two.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from audit import services as audit
from core.errors import Conflict, RateLimited, UpstreamError
from core.ratelimit import allow
from operators.directory import (
    Directory,
    DirectoryError,
    DirectoryUser,
    deadline,
    get_directory,
)
from operators.invite_records import (
    invite_completed,
    invite_failed,
    invite_open,
    invite_progressed,
)
from operators.invites import AccountTaken, directory_account, hand_over_credential
from operators.models import User, normalize_email
from operators.passwords import temporary_password
from tenants.models import (
    MemberInvite,
    MemberRole,
    Membership,
    Tenant,
    TenantStatus,
)
from tenants.provisioning.authentik import tenant_group_name

MEMBER_INVITE_MARKER = "dezky_member_invite_id"


@dataclass(frozen=True)
class MemberInviteResult:
    """At most one of `link` and `temp_password`; neither when an existing account was
    added (`existing_account`)."""

    user_id: int
    email: str
    role: str
    tenant_slug: str
    link: str | None = None
    temp_password: str | None = None
    existing_account: bool = False

    @property
    def handoff(self) -> str:
        if self.existing_account:
            return "existing-account"
        return "link" if self.link else "temp-password"


# --- inviting -------------------------------------------------------------------------


def member_invite(
    *, tenant: Tenant, name: str, email: str, role: str, actor: User, ip: str | None = None
) -> MemberInviteResult:
    name, email = name.strip(), normalize_email(email)
    _validate(name, email, role)
    if not allow(f"invite:{actor.pk}", limit=settings.INVITES_PER_MINUTE):
        raise RateLimited(
            f"At most {settings.INVITES_PER_MINUTE} invites a minute; wait a moment and retry."
        )
    directory = get_directory()
    # The local directory makes no HTTP call, so its whole invite is one transaction.
    with transaction.atomic() if directory.kind == "local" else nullcontext():
        invite = _start(tenant, name=name, email=email, role=role, actor=actor,
                        directory=directory.kind)  # fmt: skip
        try:
            with deadline(settings.AUTHENTIK_INVITE_DEADLINE_SECONDS):
                account, link, password, existing = _provision(invite, tenant, directory)
        except DirectoryError as err:
            _failed(invite, err, actor=actor, ip=ip)
            if isinstance(err, AccountTaken):
                raise Conflict(err.message, field="email") from None
            raise UpstreamError(
                f"Authentik refused or failed: {err.sentence} The invite was kept; retry it "
                "and it finishes without making a second account.",
                extra={"upstream_status": err.status},
            ) from None
        user = _finish(invite, account, existing=existing, link=link, actor=actor, ip=ip)
    return MemberInviteResult(
        user_id=user.pk, email=email, role=role, tenant_slug=tenant.slug, link=link,
        temp_password=password, existing_account=existing,
    )  # fmt: skip


def _validate(name: str, email: str, role: str) -> None:
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Give the member's name."]
    elif len(name) > 200:
        errors["name"] = ["At most 200 characters."]
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Enter a valid email address."]
    if role not in MemberRole.values:
        errors["role"] = [f"Choose one of: {', '.join(MemberRole.values)}."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def _start(
    tenant: Tenant, *, name: str, email: str, role: str, actor: User, directory: str
) -> MemberInvite:
    """Refuse what can never work; otherwise the open invite, new or resumed."""
    if tenant.status == TenantStatus.DELETED:
        raise Conflict(f"Tenant {tenant.slug} is deleted; restore it before inviting anyone.")
    user = User.objects.filter(email=email).first()
    if user is not None and user.platform_admin:
        raise Conflict(
            f"{email} is an operator; operators see every tenant already.", field="email"
        )
    if user is not None and Membership.objects.filter(tenant=tenant, user=user).exists():
        raise Conflict(f"{email} is a member of {tenant.slug} already.", field="email")
    return invite_open(
        MemberInvite, match={"tenant": tenant, "email": email},
        values={"name": name, "role": role}, directory=directory, actor=actor,
    )  # fmt: skip


def _provision(
    invite: MemberInvite, tenant: Tenant, directory: Directory
) -> tuple[DirectoryUser | None, str | None, str | None, bool]:
    """(account, link, temporary password, existing): the directory's side of it."""
    if directory.kind == "local":
        return _provision_local(invite, directory)
    group_id = directory.ensure_group(tenant_group_name(tenant))
    account, made = directory_account(
        directory, email=invite.email, name=invite.name, group_id=group_id,
        marker=(MEMBER_INVITE_MARKER, str(invite.id)),
    )  # fmt: skip
    if not made:
        directory.add_user_to_group(account.pk, group_id)
    invite_progressed(invite, account.pk)
    if account.attributes.get(MEMBER_INVITE_MARKER) != str(invite.id):
        return account, None, None, True  # someone's own account: they sign in as before
    # Ours (new, or made by an earlier try whose credential nobody saw): a credential.
    link, password = hand_over_credential(directory, account.pk)
    return account, link, password, False


def _provision_local(
    invite: MemberInvite, directory: Directory
) -> tuple[DirectoryUser | None, str | None, str | None, bool]:
    if User.objects.filter(email=invite.email).exists():
        return None, None, None, True  # a local user already: a membership, no credential
    account = directory.create_user(
        email=invite.email, name=invite.name, group_ids=[], attributes={}
    )
    password = temporary_password()
    directory.set_password(account.pk, password)
    return account, None, password, False


def _failed(invite: MemberInvite, err: DirectoryError, *, actor: User, ip: str | None) -> None:
    invite_failed(
        invite, err, action="tenant.member_invite_failed", actor=actor, ip=ip,
        target_repr=f"{invite.email} into {invite.tenant.slug}", tenant=invite.tenant,
    )  # fmt: skip


@transaction.atomic
def _finish(
    invite: MemberInvite,
    account: DirectoryUser | None,
    *,
    existing: bool,
    link: str | None,
    actor: User,
    ip: str | None,
) -> User:
    """The local user, the membership, the finished invite and the audit event, in one
    commit."""
    tenant = invite.tenant
    user = User.objects.select_for_update().filter(email=invite.email).first()
    if user is not None and user.platform_admin:  # made an operator meanwhile
        raise Conflict(f"{invite.email} is an operator; operators see every tenant already.")
    if user is None:
        user = User(email=invite.email, name=invite.name)
        user.set_unusable_password()  # they sign in through Authentik
    if not existing:
        user.name = invite.name
        user.is_active = True
    if invite.directory == "authentik" and account is not None and not user.authentik_pk:
        user.authentik_pk = account.pk
    user.full_clean(exclude=["password"])
    user.save()
    membership, _ = Membership.objects.get_or_create(
        tenant=tenant, user=user, defaults={"role": invite.role}
    )
    handoff = "existing-account" if existing else ("link" if link else "temp-password")
    invite_completed(invite, user=user, handoff=handoff)
    audit.record(
        action="tenant.member_invited",
        actor=actor,
        target=membership,
        target_repr=f"{user.email} in {tenant.slug}",
        tenant=tenant,
        ip=ip,
        metadata={
            "email": user.email,
            "role": membership.role,
            "handoff": handoff,
            "directory": invite.directory,
            "directory_user_pk": account.pk if account else None,
            "invite_id": str(invite.pk),
        },
    )
    return user


# --- role and removal -----------------------------------------------------------------


def _locked_owner_count(tenant: Tenant) -> int:
    # TRICKY: the rows are locked so a concurrent demotion or removal waits and then
    # counts what this one left.
    return len(
        Membership.objects.select_for_update()
        .filter(tenant=tenant, role=MemberRole.OWNER)
        .values_list("pk", flat=True)
    )


def _locked_membership(membership: Membership) -> Membership:
    fresh = (
        Membership.objects.select_for_update()
        .select_related("user", "tenant")
        .filter(pk=membership.pk)
        .first()
    )
    if fresh is None:
        raise Conflict("That member was removed meanwhile.")
    return fresh


def last_owner_refusal(membership: Membership, owner_count: int, *, new_role: str = "") -> str:
    """Why this change would leave the tenant without an owner ("" when it would not);
    `new_role` empty means removing the member."""
    if membership.role != MemberRole.OWNER or owner_count > 1 or new_role == MemberRole.OWNER:
        return ""
    if new_role:
        return "The last owner cannot be demoted; make someone else owner first."
    return "The last owner cannot be removed; make someone else owner first."


@transaction.atomic
def member_set_role(
    *, membership: Membership, role: str, actor: User | None, ip: str | None = None
) -> tuple[Membership, bool]:
    """Change a member's role; returns the membership and whether anything changed."""
    if role not in MemberRole.values:
        raise ValidationError({"role": [f"Choose one of: {', '.join(MemberRole.values)}."]})
    owners = _locked_owner_count(membership.tenant)
    fresh = _locked_membership(membership)
    if fresh.role == role:
        return fresh, False
    reason = last_owner_refusal(fresh, owners, new_role=role)
    if reason:
        raise Conflict(reason, field="role")
    previous = fresh.role
    fresh.role = role
    fresh.save(update_fields=["role"])
    audit.record(
        action="tenant.member_role_changed",
        actor=actor,
        target=fresh,
        target_repr=f"{fresh.user.email} in {fresh.tenant.slug}",
        tenant=fresh.tenant,
        ip=ip,
        metadata={"email": fresh.user.email, "role": role, "previous_role": previous},
    )
    return fresh, True


def member_remove(*, membership: Membership, actor: User | None, ip: str | None = None) -> None:
    """Take a member out of the tenant: out of its Authentik group (the account stays),
    then the Membership goes, with its audit event."""
    with transaction.atomic():
        _check_remove(membership)  # fail fast, before calling Authentik
    directory = get_directory()
    user, tenant = membership.user, membership.tenant
    account_pk = _remove_from_group(user, tenant, directory)
    with transaction.atomic():
        try:
            fresh = _check_remove(membership)
        except Conflict as err:
            undone = _undo_remove(account_pk, tenant, directory)
            raise Conflict(err.message + undone) from None
        metadata: dict[str, Any] = {
            "email": user.email,
            "role": fresh.role,
            "directory": directory.kind,
            "directory_user_pk": account_pk,
        }
        target_id = str(fresh.pk)
        fresh.delete()
        audit.record(
            action="tenant.member_removed",
            actor=actor,
            target_type="membership",
            target_id=target_id,
            target_repr=f"{user.email} in {tenant.slug}",
            tenant=tenant,
            ip=ip,
            metadata=metadata,
        )


def _check_remove(membership: Membership) -> Membership:
    owners = _locked_owner_count(membership.tenant)
    fresh = _locked_membership(membership)
    reason = last_owner_refusal(fresh, owners)
    if reason:
        raise Conflict(reason)
    return fresh


def _remove_from_group(user: User, tenant: Tenant, directory: Directory) -> int | None:
    if directory.kind == "local":
        return None
    try:
        with deadline(settings.AUTHENTIK_INVITE_DEADLINE_SECONDS):
            pk = user.authentik_pk
            if not pk:
                account = directory.find_user_by_email(user.email)
                pk = account.pk if account else None
            if pk is None:
                return None  # no account in Authentik: nothing to take out of the group
            group_id = directory.ensure_group(tenant_group_name(tenant))
            directory.remove_user_from_group(pk, group_id)
    except DirectoryError as err:
        raise UpstreamError(
            f"Authentik could not take {user.email} out of the tenant's group: {err.sentence} "
            "Nothing was changed; they are still a member; retry.",
            extra={"upstream_status": err.status},
        ) from None
    return pk


def _undo_remove(account_pk: int | None, tenant: Tenant, directory: Directory) -> str:
    if account_pk is None:
        return ""
    try:
        with deadline(settings.AUTHENTIK_INVITE_DEADLINE_SECONDS):
            group_id = directory.ensure_group(tenant_group_name(tenant))
            directory.add_user_to_group(account_pk, group_id)
    except DirectoryError as err:
        return (
            f" Their account was taken out of the tenant's group in Authentik and putting "
            f"it back failed: {err.message}"
        )
    return ""
