"""Writes about partners, tenants and memberships; each records its audit event in
the same transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from audit import services as audit
from core import versions
from core.changes import field_changes
from core.errors import Conflict
from operators.models import User
from tenants.models import (
    Integration,
    MemberRole,
    Membership,
    Partner,
    ProvisioningState,
    Tenant,
    TenantStatus,
)

TENANT_EDITABLE_FIELDS = ("name", "plan", "domains", "partner", "billing_email")
PARTNER_EDITABLE_FIELDS = ("name",)


def _as_audit_value(value: Any) -> Any:
    if isinstance(value, Partner):
        return value.slug
    return value


@transaction.atomic
def partner_create(*, slug: str, name: str, actor: User | None, ip: str | None = None) -> Partner:
    if Partner.objects.filter(slug=slug).exists():
        raise Conflict(f"A partner with the slug {slug} already exists.", field="slug")
    partner = Partner(slug=slug, name=name.strip())
    partner.full_clean()
    partner.save()
    audit.record(
        action="partner.created", actor=actor, target=partner, ip=ip, metadata={"slug": slug}
    )
    return partner


@transaction.atomic
def partner_update(
    *, partner: Partner, actor: User | None, ip: str | None = None, **changes: Any
) -> Partner:
    _refuse_unknown(changes, PARTNER_EDITABLE_FIELDS, "partner_update")
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    diff = field_changes({f: getattr(partner, f) for f in changes}, changes)
    if not diff:
        return partner
    for field, value in changes.items():
        setattr(partner, field, value)
    partner.full_clean()
    partner.save()
    audit.record(
        action="partner.updated", actor=actor, target=partner, ip=ip, metadata={"changes": diff}
    )
    return partner


@transaction.atomic
def tenant_create(
    *,
    slug: str,
    name: str,
    plan: str,
    domains: list[str] | None = None,
    partner: Partner | None = None,
    billing_email: str = "",
    status: str = TenantStatus.PENDING,
    actor: User | None,
    ip: str | None = None,
) -> Tenant:
    """A new tenant starts pending, with every integration waiting for reconcile."""
    if Tenant.objects.filter(slug=slug).exists():
        raise Conflict(f"A tenant with the slug {slug} already exists.", field="slug")
    if status == TenantStatus.DELETED:
        raise Conflict("A tenant cannot be created deleted.", field="status")
    tenant = Tenant(
        slug=slug,
        name=name.strip(),
        plan=plan,
        domains=list(domains or []),
        partner=partner,
        billing_email=billing_email,
        status=status,
    )
    tenant.full_clean()
    tenant.save()
    ProvisioningState.objects.bulk_create(
        ProvisioningState(tenant=tenant, integration=integration)
        for integration in Integration.values
    )
    audit.record(
        action="tenant.created",
        actor=actor,
        target=tenant,
        tenant=tenant,
        ip=ip,
        metadata={"slug": slug, "plan": plan, "partner": partner.slug if partner else None},
    )
    versions.bump("tenants")
    return tenant


@transaction.atomic
def tenant_update(
    *, tenant: Tenant, actor: User | None, ip: str | None = None, **changes: Any
) -> Tenant:
    _refuse_unknown(changes, TENANT_EDITABLE_FIELDS, "tenant_update")
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if tenant.status == TenantStatus.DELETED:
        raise Conflict(
            f"Tenant {tenant.slug} is deleted; restore it before changing it.", field="status"
        )
    before = {f: _as_audit_value(getattr(tenant, f)) for f in changes}
    diff = field_changes(before, {f: _as_audit_value(v) for f, v in changes.items()})
    if not diff:
        return tenant
    for field, value in changes.items():
        setattr(tenant, field, value)
    tenant.full_clean()
    tenant.save()
    audit.record(
        action="tenant.updated",
        actor=actor,
        target=tenant,
        tenant=tenant,
        ip=ip,
        metadata={"changes": diff},
    )
    versions.bump("tenants")
    return tenant


# Each lifecycle action: the one status it starts from, where it goes, its audit action.
_TRANSITIONS = {
    "suspend": (
        TenantStatus.ACTIVE, TenantStatus.SUSPENDED, "tenant.suspended",
        "only an active tenant can be suspended",
    ),
    "resume": (
        TenantStatus.SUSPENDED, TenantStatus.ACTIVE, "tenant.resumed",
        "only a suspended tenant can be resumed",
    ),
}  # fmt: skip


def tenant_suspend(*, tenant: Tenant, actor: User | None, ip: str | None = None) -> Tenant:
    """Only an active tenant can be suspended; anything else is a Conflict saying why."""
    return _transition(tenant, "suspend", actor=actor, ip=ip)


def tenant_resume(*, tenant: Tenant, actor: User | None, ip: str | None = None) -> Tenant:
    """Only a suspended tenant can be resumed; anything else is a Conflict saying why."""
    return _transition(tenant, "resume", actor=actor, ip=ip)


@transaction.atomic
def _transition(tenant: Tenant, action: str, *, actor: User | None, ip: str | None) -> Tenant:
    allowed_from, to, audit_action, rule = _TRANSITIONS[action]
    # Locked and re-read: the caller's copy may be stale, and two operators may click at once.
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if tenant.status != allowed_from:
        raise Conflict(
            f"Tenant {tenant.slug} is {tenant.status}; {rule}.",
            field="status",
            extra={"status": tenant.status},
        )
    previous = tenant.status
    tenant.status = to
    tenant.save(update_fields=["status", "updated_at"])
    audit.record(
        action=audit_action,
        actor=actor,
        target=tenant,
        tenant=tenant,
        ip=ip,
        metadata={"previous_status": previous},
    )
    versions.bump("tenants")
    return tenant


@transaction.atomic
def tenant_soft_delete(*, tenant: Tenant, actor: User | None, ip: str | None = None) -> Tenant:
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if tenant.status == TenantStatus.DELETED:
        raise Conflict(
            f"Tenant {tenant.slug} is already deleted.",
            field="status",
            extra={"status": tenant.status},
        )
    previous = tenant.status
    tenant.status = TenantStatus.DELETED
    tenant.deleted_at = timezone.now()
    tenant.save(update_fields=["status", "deleted_at", "updated_at"])
    audit.record(
        action="tenant.deleted",
        actor=actor,
        target=tenant,
        tenant=tenant,
        ip=ip,
        metadata={"previous_status": previous},
    )
    versions.bump("tenants")
    return tenant


@transaction.atomic
def tenant_restore(*, tenant: Tenant, actor: User | None, ip: str | None = None) -> Tenant:
    """Undo a soft delete; the tenant comes back suspended so nothing resumes unseen."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if tenant.status != TenantStatus.DELETED:
        raise Conflict(f"Tenant {tenant.slug} is not deleted, so there is nothing to restore.")
    tenant.status = TenantStatus.SUSPENDED
    tenant.deleted_at = None
    tenant.save(update_fields=["status", "deleted_at", "updated_at"])
    audit.record(action="tenant.restored", actor=actor, target=tenant, tenant=tenant, ip=ip)
    versions.bump("tenants")
    return tenant


@transaction.atomic
def membership_set(
    *,
    tenant: Tenant,
    user: User,
    role: str = MemberRole.MEMBER,
    actor: User | None,
    ip: str | None = None,
) -> Membership:
    """Add a user to a tenant, or change the role they already have there."""
    membership, created = Membership.objects.select_for_update().get_or_create(
        tenant=tenant, user=user, defaults={"role": role}
    )
    if not created and membership.role == role:
        return membership
    previous = None if created else membership.role
    membership.role = role
    membership.full_clean()
    membership.save()
    audit.record(
        action="tenant.member_added" if created else "tenant.member_role_changed",
        actor=actor,
        target=membership,
        target_repr=f"{user.email} in {tenant.slug}",
        tenant=tenant,
        ip=ip,
        metadata={"email": user.email, "role": role, "previous_role": previous},
    )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User | None, ip: str | None = None) -> None:
    tenant, email, role = membership.tenant, membership.user.email, membership.role
    target_id = str(membership.pk)
    membership.delete()
    audit.record(
        action="tenant.member_removed",
        actor=actor,
        target_type="membership",
        target_id=target_id,
        target_repr=f"{email} in {tenant.slug}",
        tenant=tenant,
        ip=ip,
        metadata={"email": email, "role": role},
    )


def _refuse_unknown(changes: dict[str, Any], allowed: tuple[str, ...], name: str) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"{name} cannot change {', '.join(sorted(unknown))}")
