from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def normalize_email(email: str) -> str:
    """One spelling per mailbox: Authentik's email filter is exact and case-sensitive."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)  # None gives an unusable password
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True, platform_admin=True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str) -> User:
        return self.get(email=normalize_email(username))


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in: operators (`platform_admin`) and members of tenants."""

    email = models.EmailField("email", unique=True, help_text="The login id, stored lower-case.")
    name = models.CharField(max_length=200)
    platform_admin = models.BooleanField(
        "platform operator",
        default=False,
        help_text="May use the console and every write of the API.",
    )
    is_staff = models.BooleanField("staff", default=False, help_text="May use the Django admin.")
    is_active = models.BooleanField("active", default=True)
    date_joined = models.DateTimeField("joined", default=timezone.now)
    authentik_pk = models.PositiveIntegerField(
        "Authentik user id", null=True, blank=True, unique=True
    )
    oidc_subject = models.CharField(
        "OIDC subject", max_length=255, null=True, blank=True, unique=True
    )
    password_change_required = models.BooleanField(
        "must change password",
        default=False,
        help_text="Set with a temporary password: nothing else is reachable until it is changed.",
    )
    password_expires_at = models.DateTimeField(
        "temporary password expires",
        null=True,
        blank=True,
        help_text="When an unused temporary password stops working.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="operators_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)
        # Empty strings would collide on the unique constraint; absent means NULL.
        self.oidc_subject = self.oidc_subject or None

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return (self.name or self.email).split(" ")[0]

    @property
    def initials(self) -> str:
        parts = [p for p in (self.name or self.email).replace("@", " ").split() if p]
        return "".join(p[0] for p in parts[:2]).upper() or "?"


class TokenScope(models.TextChoices):
    FLAGS_READ = "flags:read", "Read flags"
    FLAGS_EVALUATE = "flags:evaluate", "Evaluate flags"
    TENANTS_READ = "tenants:read", "Read tenants"
    AUDIT_READ = "audit:read", "Read the audit log"


class ServiceToken(models.Model):
    """An API credential for one of Dezky's services. Only its SHA-256 is stored; the
    token itself is shown once, when it is created."""

    name = models.CharField(max_length=100, unique=True, help_text="Which service uses it.")
    prefix = models.CharField(
        max_length=16, unique=True, help_text="The token's visible start, to tell tokens apart."
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_email = models.CharField(max_length=254, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class InviteState(models.TextChoices):
    STARTED = "started", "Started"
    DIRECTORY_USER_CREATED = "directory_user_created", "Account created in the directory"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed (can be retried)"
    # The email belongs to a directory account this invite did not make: a retry
    # cannot help until someone changes that account; the invite can be discarded.
    BLOCKED = "blocked", "Cannot finish (email taken)"


class OperatorInvite(models.Model):
    """One invite and how far it got, so a failed one can be retried without making a
    second account. Never holds the credential that was handed over."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField()
    name = models.CharField(max_length=200)
    state = models.CharField(
        max_length=32, choices=InviteState.choices, default=InviteState.STARTED
    )
    directory = models.CharField(max_length=16, help_text="authentik or local")
    directory_user_pk = models.PositiveIntegerField(null=True, blank=True)
    handoff = models.CharField(max_length=16, blank=True, help_text="link or temp-password")
    last_error = models.TextField(blank=True)
    invited_by = models.ForeignKey(
        "operators.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_by_email = models.CharField(max_length=254, blank=True)
    user = models.ForeignKey(
        "operators.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one unfinished invite per email: a retry resumes it.
            models.UniqueConstraint(
                fields=["email"],
                condition=~models.Q(state="completed"),
                name="one_open_invite_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_state_display()})"


class UserSession(models.Model):
    """A signed-in browser session, so an operator can see theirs and end the others.

    One row per Django session; it goes when the session ends (sign-out, expiry,
    "sign out others", deactivation).
    """

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(
        "operators.User", on_delete=models.CASCADE, related_name="browser_sessions"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["user", "-last_seen_at"])]

    def __str__(self) -> str:
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"


class ImpersonationEnd(models.TextChoices):
    EXIT = "exit", "Exited"
    EXPIRED = "expired", "Time limit reached"
    NEW_SESSION = "new session", "A new sign-in session began"
    SIGNED_OUT = "signed out", "Signed out"


class Impersonation(models.Model):
    """An operator viewing the console as a tenant member sees it, for support.

    Nothing is minted or done on the member's behalf: it only narrows what this
    console shows the operator, who stays the signed-in user (and the audit actor).
    The row is the truth; the session only says which row this browser is in.
    """

    operator = models.ForeignKey(
        "operators.User", on_delete=models.CASCADE, related_name="impersonations"
    )
    member = models.ForeignKey(
        "operators.User", on_delete=models.CASCADE, related_name="impersonated_by"
    )
    reason = models.TextField(max_length=500)
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(
        max_length=16, choices=ImpersonationEnd.choices, blank=True, default=""
    )
    # A digest of the session key it was started in: a new sign-in cycles the key,
    # which ends the impersonation (the key itself is a credential; never stored).
    session_digest = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["operator", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.operator} as {self.member} at {self.started_at:%Y-%m-%d %H:%M}"

    def is_expired(self, now: Any = None) -> bool:
        return (now or timezone.now()) >= self.expires_at
