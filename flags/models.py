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
# Words the API uses beside /api/flags/<key>/: a flag with such a key could never be
# read or changed there.
RESERVED_FLAG_KEYS = frozenset({"evaluate", "preview", "stream"})

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


# ---------------------------------------------------------- scheduled changes --
# Changes written at a time, and rollouts that ramp in steps. Only flags.schedules
# writes these (and flags.change_requests marks a step applied when the change
# request it proposed is applied); `manage.py apply_scheduled_flag_changes` runs them.


class ScheduleKind(models.TextChoices):
    CHANGE = "change", "Change at a time"
    RAMP = "ramp", "Rollout ramp"
    CHANGE_REQUEST = "change_request", "Apply a change request"


class ScheduleState(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    HELD = "held", "Needs a decision"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


SCHEDULE_LIVE_STATES = (ScheduleState.ACTIVE, ScheduleState.PAUSED, ScheduleState.HELD)


class FlagSchedule(models.Model):
    """Steps to write on a flag at given times, on behalf of the operator who made it.

    `flag_version` is the version the next step expects. A flag changed by any other
    means since (a save, the kill switch, a change request) no longer has it, and
    the schedule waits for an operator to keep or cancel it rather than writing over
    that change."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="schedules")
    kind = models.CharField(max_length=16, choices=ScheduleKind.choices)
    title = models.CharField(max_length=200)
    state = models.CharField(
        max_length=16, choices=ScheduleState.choices, default=ScheduleState.ACTIVE
    )
    held_reason = models.CharField(max_length=500, blank=True)
    flag_version = models.PositiveIntegerField()
    change_request = models.ForeignKey(
        FlagChangeRequest,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="schedules",
        help_text="The approved change request this schedule applies (kind change_request).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_by_email = models.CharField(max_length=254, blank=True)
    closed_by_email = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=ScheduleState.values),
                name="flag_schedule_state_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ScheduleKind.values), name="flag_schedule_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"schedule #{self.pk} of {self.flag.key}"

    @property
    def is_live(self) -> bool:
        return self.state in SCHEDULE_LIVE_STATES


class StepState(models.TextChoices):
    PENDING = "pending", "Pending"
    WAITING = "waiting", "Waiting for approval"
    APPLIED = "applied", "Applied"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Not applied"
    CANCELLED = "cancelled", "Cancelled"


class FlagScheduleStep(models.Model):
    schedule = models.ForeignKey(FlagSchedule, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    at = models.DateTimeField(db_index=True)
    # The values this step sets: {"field": value} (the "after" side of a diff).
    values = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=StepState.choices, default=StepState.PENDING)
    change_request = models.ForeignKey(
        FlagChangeRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="schedule_steps",
        help_text="The change request this step proposed (approvals were needed) or applies.",
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_version = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["schedule", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "position"], name="flag_schedule_step_position"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=StepState.values),
                name="flag_schedule_step_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"step {self.position} of schedule #{self.schedule_id}"


class SchedulerRun(models.Model):
    """When `apply_scheduled_flag_changes` last ran (one row), so the pages can say
    truthfully whether schedules are being applied at all."""

    last_run_at = models.DateTimeField()
    last_applied = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"scheduler ran at {self.last_run_at:%Y-%m-%d %H:%M:%S}"
