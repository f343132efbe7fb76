from __future__ import annotations

from functools import partial

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from core.validators import validate_slug, validate_string_list
from tenants.models import Plan

FLAG_KEY_PATTERN = r"^[a-z][a-z0-9_]{1,62}$"
HISTORY_KEPT = 20
SCOPE_AXES = ("plans", "tenant_slugs", "partner_slugs", "environments")

validate_flag_key = RegexValidator(
    FLAG_KEY_PATTERN,
    "Use 2-63 characters: a lower-case letter, then lower-case letters, digits or underscores.",
    code="invalid_flag_key",
)


class FlagState(models.TextChoices):
    OFF = "off", "Off"
    ON = "on", "On"
    TARGETED = "targeted", "Targeted"
    ROLLOUT = "rollout", "Rollout"


class Flag(models.Model):
    """A feature flag; the rules that read it are in flags/engine.py and nowhere else."""

    key = models.CharField(max_length=63, unique=True, validators=[validate_flag_key])
    description = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=FlagState.choices, default=FlagState.OFF)
    pct = models.PositiveSmallIntegerField(
        "rollout %",
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Share of in-scope tenants that get the flag; used only by rollout.",
    )
    # The four allowlists of the scope; an empty list means the axis is not used.
    scope_plans = models.JSONField(
        default=list,
        blank=True,
        validators=[partial(validate_string_list, allowed=set(Plan.values))],
    )
    scope_tenant_slugs = models.JSONField(
        default=list, blank=True, validators=[partial(validate_string_list, item=validate_slug)]
    )
    scope_partner_slugs = models.JSONField(
        default=list, blank=True, validators=[partial(validate_string_list, item=validate_slug)]
    )
    scope_environments = models.JSONField(
        default=list,
        blank=True,
        validators=[partial(validate_string_list, allowed=set(settings.ENVIRONMENTS))],
    )
    version = models.PositiveIntegerField(
        default=1, help_text="Raised by every change; a write based on an older one is refused."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pct__gte=0, pct__lte=100), name="flag_pct_0_100"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=FlagState.values), name="flag_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def scope(self) -> dict[str, list[str]]:
        return {axis: list(getattr(self, f"scope_{axis}")) for axis in SCOPE_AXES}


class FlagChange(models.Model):
    """One entry of a flag's history; only the newest HISTORY_KEPT per flag are kept
    (the audit log keeps every change for good)."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_email = models.CharField(max_length=254, blank=True)
    changes = models.JSONField(default=dict, help_text='{"field": {"before": ..., "after": ...}}')

    class Meta:
        ordering = ["-at", "-id"]
        get_latest_by = "at"

    def __str__(self) -> str:
        return f"{self.flag.key} by {self.actor_email or 'system'} at {self.at:%Y-%m-%d %H:%M}"


class RetiredFlagKey(models.Model):
    """A deleted flag's key. Keys are never reused: a service that still asks for the
    old flag must not silently get a new one with different rules."""

    key = models.CharField(max_length=63, unique=True)
    retired_at = models.DateTimeField(auto_now_add=True)
    retired_by_email = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


# ------------------------------------------------------------ change requests --
# Four eyes on flags: how many approvals a change needs per environment, and the
# requests that wait for them. Only flags.change_requests writes these.

MAX_APPROVALS = 5


class ApprovalPolicy(models.Model):
    """How many other operators must approve a change that touches an environment.

    An environment without a row uses settings.FLAG_APPROVALS_DEFAULT."""

    environment = models.CharField(
        max_length=16, unique=True, choices=[(env, env) for env in settings.ENVIRONMENTS]
    )
    approvals_required = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(MAX_APPROVALS)]
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by_email = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["environment"]
        verbose_name_plural = "approval policies"

    def __str__(self) -> str:
        return f"{self.environment}: {self.approvals_required}"


class ChangeRequestState(models.TextChoices):
    OPEN = "open", "Open"
    APPROVED = "approved", "Approved (ready)"
    REJECTED = "rejected", "Rejected"
    APPLIED = "applied", "Applied"
    WITHDRAWN = "withdrawn", "Withdrawn"


CHANGE_REQUEST_LIVE_STATES = (ChangeRequestState.OPEN, ChangeRequestState.APPROVED)


class FlagChangeRequest(models.Model):
    """A proposed change of a flag that waits for approvals instead of being written."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="change_requests")
    title = models.CharField(max_length=200)
    # The same shape as FlagChange.changes: {"field": {"before": ..., "after": ...}},
    # "before" being the flag at base_version.
    changes = models.JSONField(default=dict)
    base_version = models.PositiveIntegerField()
    state = models.CharField(
        max_length=16, choices=ChangeRequestState.choices, default=ChangeRequestState.OPEN
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    author_email = models.CharField(max_length=254, blank=True)
    closed_by_email = models.CharField(max_length=254, blank=True)
    reason = models.CharField(max_length=500, blank=True, help_text="Why it was rejected.")
    applied_version = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=ChangeRequestState.values),
                name="flag_change_request_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_live(self) -> bool:
        return self.state in CHANGE_REQUEST_LIVE_STATES


class FlagChangeApproval(models.Model):
    request = models.ForeignKey(
        FlagChangeRequest, on_delete=models.CASCADE, related_name="approvals"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    approver_email = models.CharField(max_length=254)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "approver"], name="flag_change_approval_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.approver_email} approved #{self.request_id}"


class FlagEvaluationDay(models.Model):
    """How often a flag answered on and off on one UTC day, summed over every worker
    (flags.counters flushes each worker's in-memory counts here).

    TRICKY: keyed by the flag's key, not a foreign key. Counts are flushed up to a
    minute after they were taken, when the flag may already be deleted (a foreign key
    would fail the whole batch), and a deleted flag's key is retired, never reused, so
    its rows can never be mistaken for another flag's. Rows older than
    flags.counters.days_kept() are pruned by the flush."""

    key = models.CharField(max_length=63)
    day = models.DateField(db_index=True)
    on_count = models.PositiveBigIntegerField(default=0)
    off_count = models.PositiveBigIntegerField(default=0)
    last_evaluated_at = models.DateTimeField()

    class Meta:
        ordering = ["key", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["key", "day"], name="flag_evaluation_day_key_day"),
        ]

    def __str__(self) -> str:
        return f"{self.key} on {self.day:%Y-%m-%d}: {self.on_count} on, {self.off_count} off"
