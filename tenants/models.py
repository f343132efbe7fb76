from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from core.validators import validate_domain, validate_slug, validate_string_list


class Plan(models.TextChoices):
    STARTER = "starter", "Starter"
    BUSINESS = "business", "Business"
    ENTERPRISE = "enterprise", "Enterprise"


class TenantStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    DELETED = "deleted", "Deleted"


class Integration(models.TextChoices):
    AUTHENTIK = "authentik", "Authentik (identity)"
    STALWART = "stalwart", "Stalwart (mail)"
    OCIS = "ocis", "oCIS (files)"


class ProvisioningStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    READY = "ready", "Ready"
    ERROR = "error", "Error"
    NOT_CONFIGURED = "not_configured", "Not configured"


class MemberRole(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class Partner(models.Model):
    """A reseller that brings tenants to the platform."""

    slug = models.CharField(max_length=63, unique=True, validators=[validate_slug])
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def validate_domains(value: object) -> None:
    validate_string_list(value, item=validate_domain)


def new_stable_id() -> str:
    return str(uuid.uuid4())


class Tenant(models.Model):
    """A customer business: its mail domains, files and identity live on the platform."""

    stable_id = models.CharField(
        max_length=64,
        unique=True,
        default=new_stable_id,
        editable=False,
        help_text="Never changes (not on rename, not on migration between systems); "
        "flag rollouts bucket tenants by it.",
    )
    slug = models.CharField(
        max_length=63,
        unique=True,
        validators=[validate_slug],
        help_text="Stable handle for URLs and services (flags bucket by id, not slug).",
    )
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=TenantStatus.choices, default=TenantStatus.PENDING
    )
    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.STARTER)
    domains = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_domains],
        help_text="Mail domains, primary first.",
    )
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="tenants"
    )
    billing_email = models.EmailField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="tenants", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # TRICKY: reconcile's lease lives on the row, not in a cache, so two processes
    # (a worker and `manage.py reconcile_tenants`) can never reconcile one tenant at
    # once; taking it is one conditional UPDATE, atomic on SQLite and PostgreSQL.
    reconcile_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    reconcile_lease_holder = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        ordering = ["slug"]
        indexes = [models.Index(fields=["status", "plan"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=TenantStatus.values), name="tenant_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(plan__in=Plan.values), name="tenant_plan_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def primary_domain(self) -> str:
        return self.domains[0] if self.domains else ""

    def clean(self) -> None:
        super().clean()
        if isinstance(self.domains, list):
            self.domains = [d.strip().lower() for d in self.domains if isinstance(d, str)]
        if (self.status == TenantStatus.DELETED) != (self.deleted_at is not None):
            raise ValidationError(
                {"deleted_at": "Set exactly when the tenant's status is deleted."}
            )


class Membership(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=MemberRole.choices, default=MemberRole.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant__slug", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.tenant.slug} ({self.role})"


class ProvisioningState(models.Model):
    """Where one tenant stands in one integration; written by reconcile."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="provisioning")
    integration = models.CharField(max_length=16, choices=Integration.choices)
    state = models.CharField(
        max_length=16, choices=ProvisioningStatus.choices, default=ProvisioningStatus.PENDING
    )
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant__slug", "integration"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "integration"], name="provisioning_state_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant.slug} · {self.integration}: {self.state}"


class MemberInviteState(models.TextChoices):
    STARTED = "started", "Started"
    DIRECTORY_USER_CREATED = "directory_user_created", "Account found or made in the directory"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed (can be retried)"


class MemberInvite(models.Model):
    """One invite of a person into a tenant and how far it got, so a failed one is
    finished by a retry instead of making a second account. Never holds the credential
    that was handed over."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="member_invites")
    email = models.EmailField()
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=16, choices=MemberRole.choices, default=MemberRole.MEMBER)
    state = models.CharField(
        max_length=32, choices=MemberInviteState.choices, default=MemberInviteState.STARTED
    )
    directory = models.CharField(max_length=16, help_text="authentik or local")
    directory_user_pk = models.PositiveIntegerField(null=True, blank=True)
    handoff = models.CharField(
        max_length=20, blank=True, help_text="link, temp-password or existing-account"
    )
    last_error = models.TextField(blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    invited_by_email = models.CharField(max_length=254, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one unfinished invite per person and tenant: a retry resumes it.
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=~models.Q(state="completed"),
                name="one_open_member_invite_per_tenant_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} into {self.tenant_id} ({self.get_state_display()})"
