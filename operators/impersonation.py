"""Viewing the console as a tenant member sees it, to support them.

An operator picks a member, gives a reason and gets, for at most
IMPERSONATION_MAX_MINUTES, the console narrowed to what that member may read (their
own tenants). Nothing is minted for Authentik or the services and nothing is done
on the member's behalf: `request.user` stays the operator, so every audit event
names the real person. Writes are refused while it lasts
(`operators.impersonation_middleware`).

The `Impersonation` row is the truth; the session only holds which row this
browser is in. A row past its `expires_at`, or seen after a new sign-in of the
operator (a later `last_login`, or another session key), is ended when next seen;
one left open elsewhere is ended when the operator starts another.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from audit import services as audit
from core.errors import ApplicationError, Conflict
from core.request_meta import client_ip
from operators.models import Impersonation, ImpersonationEnd, User
from operators.permissions import is_operator
from tenants.models import Membership, TenantStatus

SESSION_KEY = "operators.impersonation"
REASON_MIN_LENGTH = 10
REASON_MAX_LENGTH = 500
DEFAULT_MAX_MINUTES = 15


def max_minutes() -> int:
    """IMPERSONATION_MAX_MINUTES, at least one."""
    return max(1, int(getattr(settings, "IMPERSONATION_MAX_MINUTES", DEFAULT_MAX_MINUTES)))


def session_digest(session_key: str | None) -> str:
    return hashlib.sha256((session_key or "").encode()).hexdigest()


def member_memberships(member: User) -> QuerySet[Membership]:
    """What the member belongs to, as they see it: never deleted tenants."""
    return (
        Membership.objects.filter(user=member)
        .exclude(tenant__status=TenantStatus.DELETED)
        .select_related("tenant")
        .order_by("tenant__name", "tenant__slug")
    )


def refusal(member: User | None, *, operator: User | None = None) -> str:
    """Why `member` cannot be viewed as, in words for the form; "" when they can."""
    if member is None:
        return "No user has this email."
    if operator is not None and member.pk == operator.pk:
        return "You cannot view the console as yourself."
    if member.platform_admin:
        return "Operators cannot be viewed as: only tenant members can."
    if not member.is_active:
        return "This member is inactive: there is nothing they can see."
    if not member_memberships(member).exists():
        return "This user belongs to no tenant: there is nothing they can see."
    return ""


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < REASON_MIN_LENGTH:
        raise ApplicationError(
            f"Reason: say why, in at least {REASON_MIN_LENGTH} characters.", field="reason"
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise ApplicationError(
            f"Reason: at most {REASON_MAX_LENGTH} characters (it has {len(reason)}).",
            field="reason",
        )
    return reason


def impersonation_start(
    *,
    member: User | None,
    reason: str,
    actor: User,
    session_key: str | None,
    ip: str | None = None,
) -> Impersonation:
    """Start viewing the console as `member` in the session `session_key`.

    Refuses non-operators, operators as the member, members who are inactive or in
    no tenant, and a session that is already viewing as someone. An earlier open
    impersonation of this operator in another session is ended ("new session")."""
    if not is_operator(actor):
        raise ApplicationError("Only platform operators may view the console as a member.")
    why_not = refusal(member, operator=actor)
    if why_not or member is None:
        raise ApplicationError(why_not, field="member")
    reason = _clean_reason(reason)
    digest = session_digest(session_key)
    now = timezone.now()
    with transaction.atomic():
        # TRICKY: the operator's own row is the lock, so two tabs starting at once
        # take turns and the second sees the first's open row.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        open_rows = list(
            Impersonation.objects.select_for_update()
            .select_related("member")
            .filter(operator=actor, ended_at__isnull=True)
        )
        for row in open_rows:
            if row.session_digest == digest and not row.is_expired(now):
                raise Conflict(
                    f"You are already viewing the console as {_name(row.member)}. Exit first.",
                    field="member",
                )
        for row in open_rows:
            ended = (
                ImpersonationEnd.EXPIRED if row.is_expired(now) else ImpersonationEnd.NEW_SESSION
            )
            _end(row, actor=actor, ended_reason=ended, ip=ip, now=now)
        record = Impersonation.objects.create(
            operator=actor,
            member=member,
            reason=reason,
            started_at=now,
            expires_at=now + timedelta(minutes=max_minutes()),
            session_digest=digest,
        )
        audit.record(
            action="impersonation.started",
            actor=actor,
            target=member,
            metadata={
                "impersonation_id": record.pk,
                "reason": reason,
                "expires_at": record.expires_at.isoformat(),
                "max_minutes": max_minutes(),
                "tenants": list(member_memberships(member).values_list("tenant__slug", flat=True)),
            },
            ip=ip,
        )
    return record


def impersonation_end(
    *,
    impersonation: Impersonation,
    actor: User | None,
    ended_reason: str = ImpersonationEnd.EXIT,
    ip: str | None = None,
) -> bool:
    """End it; False when it had ended already (another tab, the time limit)."""
    if ended_reason not in ImpersonationEnd.values:
        raise ValueError(f"unknown end of an impersonation {ended_reason!r}")
    with transaction.atomic():
        return _end(
            impersonation, actor=actor, ended_reason=ended_reason, ip=ip, now=timezone.now()
        )


def _end(
    record: Impersonation, *, actor: User | None, ended_reason: str, ip: str | None, now: datetime
) -> bool:
    # TRICKY: a conditional UPDATE, so two requests ending the same row (two tabs at
    # the time limit) write one `impersonation.ended`, not two.
    ended = Impersonation.objects.filter(pk=record.pk, ended_at__isnull=True).update(
        ended_at=now, ended_reason=ended_reason
    )
    if not ended:
        return False
    record.ended_at, record.ended_reason = now, ended_reason
    audit.record(
        action="impersonation.ended",
        actor=actor,
        target=record.member,
        metadata={
            "impersonation_id": record.pk,
            "ended_reason": ended_reason,
            "reason": record.reason,
            "started_at": record.started_at.isoformat(),
        },
        ip=ip,
    )
    return True


def impersonation_page_viewed(
    *, impersonation: Impersonation, path: str, status: int, actor: User, ip: str | None = None
) -> None:
    """One page the operator saw while viewing as the member, with the reason."""
    with transaction.atomic():
        audit.record(
            action="impersonation.page_viewed",
            actor=actor,
            target=impersonation.member,
            metadata={
                "impersonation_id": impersonation.pk,
                "path": path[:300],
                "status": status,
                "reason": impersonation.reason,
            },
            ip=ip,
        )


def current(request: HttpRequest) -> Impersonation | None:
    """This browser session's active impersonation, or None.

    One past its time limit, or begun in another session (a new sign-in), is ended
    here and recorded; the operator is told on the next page."""
    raw = request.session.get(SESSION_KEY)
    if raw is None:
        return None
    user: Any = request.user
    record = None
    if isinstance(raw, int) and getattr(user, "is_authenticated", False):
        record = (
            Impersonation.objects.select_related("member")
            .filter(pk=raw, operator_id=user.pk, ended_at__isnull=True)
            .first()
        )
    if record is None:
        request.session.pop(SESSION_KEY, None)
        return None
    ended_reason = ""
    last_login = getattr(user, "last_login", None)
    # A sign-in since it started (in this browser or another) begins a new session;
    # Django stamps last_login at every sign-in, and a new session key is one too.
    if record.session_digest != session_digest(request.session.session_key) or (
        last_login is not None and last_login > record.started_at
    ):
        ended_reason = ImpersonationEnd.NEW_SESSION
    elif record.is_expired():
        ended_reason = ImpersonationEnd.EXPIRED
    if not ended_reason:
        return record
    impersonation_end(
        impersonation=record, actor=user, ended_reason=ended_reason, ip=client_ip(request)
    )
    request.session.pop(SESSION_KEY, None)
    if ended_reason == ImpersonationEnd.EXPIRED:
        messages.info(
            request,
            f"Your view as {_name(record.member)} ended: the {max_minutes()}-minute limit "
            "was reached. This is your own view again.",
        )
    return None


def _name(user: User) -> str:
    return user.name or user.email
