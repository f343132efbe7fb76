"""Which audit events notify operators: the one list, `RULES`.

A rule names an audit action, optionally a predicate the event must pass, the title
a notification gets, its icon and where a click on it leads. The sentence under the
title is the audit registry's own (`audit.actions.describe`). Every operator is
notified of every matching event except the ones they caused themselves.

A predicate may need more than the event (the flag as it is now, whether a change
request is still open, a tenant's slug for a link): `Lookups` fetches that once for a
batch of events, so a page of notifications costs the same few queries whatever it
holds.

A rule with a predicate may also give `narrow`, a database filter that keeps most
non-matching events out of the scan (a reconcile that went well); the predicate
stays the truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.urls import NoReverseMatch, reverse

from audit import actions
from audit.models import AuditEvent
from flags.models import CHANGE_REQUEST_LIVE_STATES, Flag, FlagChangeRequest
from tenants.models import Integration, Tenant

PROD = "prod"


@dataclass(frozen=True)
class Lookups:
    """What predicates and links read besides the event, fetched once per batch."""

    # flag pk (the event's target_id) -> key, for flags that still exist
    flag_keys: dict[str, str]
    # flag pk -> environments of its scope: as it is now, or as it was when deleted
    flag_environments: dict[str, list[str]]
    # tenant pk (as a string) -> slug; filled only when links are wanted
    tenant_slugs: dict[str, str]
    # change request pks (the events' target_id) of requests still open or approved
    live_change_requests: frozenset[str] = frozenset()

    @classmethod
    def for_events(cls, events: Iterable[AuditEvent], *, links: bool) -> Lookups:
        events = list(events)
        flag_ids = {e.target_id for e in events if e.action.startswith("flag.") and e.target_id}
        keys: dict[str, str] = {}
        environments: dict[str, list[str]] = {}
        if flag_ids:
            rows = Flag.objects.filter(pk__in=_int_ids(flag_ids)).values_list(
                "pk", "key", "scope_environments"
            )
            for pk, key, envs in rows:
                keys[str(pk)] = key
                environments[str(pk)] = list(envs or [])
        gone = flag_ids - keys.keys()
        if gone:
            # A deleted flag's last scope is in the event that deleted it (`before`).
            deletions = AuditEvent.objects.filter(
                action="flag.deleted", target_type="flag", target_id__in=gone
            ).values_list("target_id", "metadata")
            for target_id, metadata in deletions:
                before = metadata.get("before") if isinstance(metadata, dict) else None
                if isinstance(before, dict) and isinstance(before.get("scope_environments"), list):
                    environments[target_id] = before["scope_environments"]
        slugs: dict[str, str] = {}
        tenant_ids = {_tenant_id(e) for e in events} - {""}
        if links and tenant_ids:
            rows = Tenant.objects.filter(pk__in=_int_ids(tenant_ids)).values_list("pk", "slug")
            slugs = {str(pk): slug for pk, slug in rows}
        request_ids = {e.target_id for e in events if e.action == "flags.change_requested"}
        live: frozenset[str] = frozenset()
        if request_ids:
            rows = FlagChangeRequest.objects.filter(
                pk__in=_int_ids(request_ids), state__in=CHANGE_REQUEST_LIVE_STATES
            ).values_list("pk", flat=True)
            live = frozenset(str(pk) for pk in rows)
        return cls(
            flag_keys=keys,
            flag_environments=environments,
            tenant_slugs=slugs,
            live_change_requests=live,
        )


Predicate = Callable[[AuditEvent, Lookups], bool]
LinkTo = Callable[[AuditEvent, Lookups], str]


@dataclass(frozen=True)
class Rule:
    action: str
    title: str
    icon: str
    link: LinkTo
    when: Predicate | None = None
    narrow: Q | None = None
    tone: str = ""  # "" = the audit action's own tone

    def applies(self, event: AuditEvent, lookups: Lookups) -> bool:
        return self.when is None or self.when(event, lookups)

    @property
    def shown_tone(self) -> str:
        return self.tone or actions.tone(self.action)


# ------------------------------------------------------------------ predicates --


def _metadata(event: AuditEvent) -> dict[str, Any]:
    return event.metadata if isinstance(event.metadata, dict) else {}


def _reaches_prod(environments: Any) -> bool:
    # An empty environment allowlist means the axis is not used: every environment.
    if not isinstance(environments, list | tuple) or not environments:
        return True
    return PROD in environments


def flag_reaches_prod(event: AuditEvent, lookups: Lookups) -> bool:
    """Did this change of a flag touch production?

    flag.deleted records the whole flag as it was (`before`). flag.updated and
    flag.killed record only the fields that changed (`changes`): when the scope's
    environments changed, either side reaching prod counts (prod gained the flag or
    lost it).
    """
    metadata = _metadata(event)
    if event.action == "flag.deleted":
        before = metadata.get("before")
        if isinstance(before, dict) and "scope_environments" in before:
            return _reaches_prod(before["scope_environments"])
        return True  # cannot tell, and the flag is gone: rather notify than miss prod
    changes = metadata.get("changes")
    if isinstance(changes, dict) and isinstance(changes.get("scope_environments"), dict):
        change = changes["scope_environments"]
        return _reaches_prod(change.get("before")) or _reaches_prod(change.get("after"))
    # TRICKY: the event does not say the scope when the scope did not change, so this
    # reads the flag as it is now (or, deleted since, as it was when deleted). A later
    # change of its environments can make an old notification appear or vanish. When
    # neither is known, rather notify than miss prod.
    environments = lookups.flag_environments.get(event.target_id)
    return True if environments is None else _reaches_prod(environments)


def provisioning_failed(event: AuditEvent, lookups: Lookups) -> bool:
    """A reconcile in which any integration ended in error."""
    outcomes = _metadata(event).get("outcomes")
    if not isinstance(outcomes, dict):
        return False
    return any(isinstance(o, dict) and o.get("state") == "error" for o in outcomes.values())


# The database's cut of provisioning_failed, over the integrations the platform has.
_PROVISIONING_FAILED = Q()
for _name in Integration.values:
    _PROVISIONING_FAILED |= Q(**{f"metadata__outcomes__{_name}__state": "error"})


# ---------------------------------------------------------------------- links --


def _tenant_id(event: AuditEvent) -> str:
    if event.tenant_id:
        return str(event.tenant_id)
    return event.target_id if event.target_type == "tenant" else ""


def _int_ids(ids: Iterable[str]) -> list[int]:
    return [int(i) for i in ids if i.isdigit() and len(i) < 19]


def audit_link(event: AuditEvent, lookups: Lookups | None = None) -> str:
    """The event in the audit log. The detail page is being built alongside this app;
    until its URL exists, the log itself."""
    try:
        return reverse("audit:detail", args=[event.pk])
    except NoReverseMatch:
        return reverse("audit:list")


def tenant_link(event: AuditEvent, lookups: Lookups) -> str:
    slug = lookups.tenant_slugs.get(_tenant_id(event))
    return reverse("tenants:detail", kwargs={"slug": slug}) if slug else audit_link(event)


def flag_link(event: AuditEvent, lookups: Lookups) -> str:
    key = lookups.flag_keys.get(event.target_id)
    if key is None:  # deleted since: its page is gone, the audit log keeps it
        return audit_link(event)
    return reverse("flags:detail", kwargs={"key": key})


def incident_link(event: AuditEvent, lookups: Lookups) -> str:
    # The monitor app serves /incidents/<id>/; its URL names are its own business.
    if event.target_id.isdigit():
        return f"/incidents/{event.target_id}/"
    return audit_link(event)


def team_link(event: AuditEvent, lookups: Lookups) -> str:
    return reverse("operators:team")


def change_request_link(event: AuditEvent, lookups: Lookups) -> str:
    if event.target_id.isdigit():
        return reverse("flags:change_request", kwargs={"request_id": int(event.target_id)})
    return audit_link(event)


def schedule_link(event: AuditEvent, lookups: Lookups) -> str:
    if event.target_id.isdigit():
        return reverse("flags:schedule", kwargs={"schedule_id": int(event.target_id)})
    return audit_link(event)


def waits_for_approval(event: AuditEvent, lookups: Lookups) -> bool:
    """A proposed flag change the policy held for approval, while the request is still
    open or approved: once applied, rejected or withdrawn (or gone with its flag) it
    waits for no one, and the notification goes. The author is never notified
    (nobody is, of their own events), so everyone told can approve it."""
    required = _metadata(event).get("approvals_required")
    if not (isinstance(required, int) and required > 0):
        return False
    return event.target_id in lookups.live_change_requests


# ---------------------------------------------------------------------- rules --

_PROD_FLAG = {"when": flag_reaches_prod, "link": flag_link}

RULES: tuple[Rule, ...] = (
    Rule("platform.user_invited", "Operator invited", "user-plus", team_link),
    Rule("platform.user_invite_failed", "Operator invite failed", "user-plus", team_link),
    Rule("tenant.suspended", "Tenant suspended", "building-2", tenant_link),
    Rule("tenant.deleted", "Tenant deleted", "trash-2", tenant_link),
    Rule(
        "tenant.reconciled", "Provisioning failed", "server-crash", tenant_link,
        when=provisioning_failed, narrow=_PROVISIONING_FAILED, tone="danger",
    ),
    Rule("flag.updated", "Flag changed in prod", "flag", tone="warning", **_PROD_FLAG),
    Rule("flag.killed", "Flag killed in prod", "flag", **_PROD_FLAG),
    Rule("flag.deleted", "Flag deleted in prod", "trash-2", **_PROD_FLAG),
    Rule(
        "flags.change_requested", "Change request waits for your approval", "flag",
        change_request_link, when=waits_for_approval,
        narrow=Q(metadata__approvals_required__gt=0), tone="warning",
    ),
    Rule(
        "flags.schedule_held", "Flag schedule needs a decision", "clock", schedule_link,
        tone="warning",
    ),
    Rule("audit.chain_broken", "Audit chain broken", "shield-alert", audit_link),
    Rule("incident.opened", "Incident opened", "server-crash", incident_link),
    Rule("incident.updated", "Incident updated", "server-crash", incident_link),
    Rule("incident.resolved", "Incident resolved", "circle-check", incident_link),
    Rule("user.login_throttled", "Sign-ins refused", "lock", audit_link),
)  # fmt: skip

BY_ACTION: dict[str, Rule] = {rule.action: rule for rule in RULES}
if len(BY_ACTION) != len(RULES):
    raise ValueError("notifications.rules: one rule per audit action")
actions.require_known(BY_ACTION)

CODES: tuple[str, ...] = tuple(BY_ACTION)


def rule_for(code: str) -> Rule | None:
    return BY_ACTION.get(code)


def candidates() -> Q:
    """The database's cut of RULES: every event that might notify (predicates aside)."""
    plain = [rule.action for rule in RULES if rule.narrow is None]
    found = Q(action__in=plain)
    for rule in RULES:
        if rule.narrow is not None:
            found |= Q(action=rule.action) & rule.narrow
    return found
