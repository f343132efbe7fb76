"""Viewing the console as a tenant member sees it (operators.impersonation).

`start` is the start page: GET shows the member (picked from a tenant's Users tab
or typed in), their tenants and the time limit with a required reason; its POST
starts it and goes to the member view. `member_view` and `member_tenant` are what
the member may see: their tenants, read-only. `exit_view` (POST) ends it and goes back
where it was started from. The middleware refuses everything else meanwhile.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from console.responder import Notice, redirect_with_notice, respond
from core.errors import ApplicationError
from core.request_meta import client_ip
from operators.impersonation import (
    REASON_MAX_LENGTH,
    REASON_MIN_LENGTH,
    SESSION_KEY,
    impersonation_end,
    impersonation_start,
    max_minutes,
    member_memberships,
    refusal,
)
from operators.models import ImpersonationEnd, User, normalize_email
from operators.permissions import operator_required
from tenants import selectors as tenant_selectors

RETURN_KEY = "operators.impersonation.return_to"
ERROR_STATUS = {409: 409, 422: 400}


class StartForm(forms.Form):
    member = forms.EmailField(label="Member's email", max_length=254)
    reason = forms.CharField(
        label="Reason",
        min_length=REASON_MIN_LENGTH,
        max_length=REASON_MAX_LENGTH,
        strip=True,
        error_messages={"required": "Say why you need to see what they see."},
    )
    tenant = forms.CharField(required=False, max_length=63)


def _member(email: str) -> User | None:
    # A NUL byte is no email, and PostgreSQL refuses it even in a lookup.
    if not email or "\x00" in email:
        return None
    return User.objects.filter(email=normalize_email(email)).first()


def _return_url(request: HttpRequest, tenant_slug: str) -> str:
    """Where Exit leads: the tenant's Users tab it was started from, else the overview."""
    if tenant_slug:
        try:
            return f"{reverse('tenants:detail', args=[tenant_slug])}?tab=users"
        except NoReverseMatch:
            pass  # a slug the URL pattern refuses: the overview it is
    return reverse("console:overview")


def _start_context(form: StartForm, member: User | None, operator: Any) -> dict[str, Any]:
    return {
        "form": form,
        "member": member,
        "why_not": refusal(member, operator=operator) if member else "",
        "memberships": list(member_memberships(member)) if member else [],
        "max_minutes": max_minutes(),
        "reason_min": REASON_MIN_LENGTH,
        "reason_max": REASON_MAX_LENGTH,
    }


@operator_required
@never_cache
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        initial = {"member": request.GET.get("member", ""), "tenant": request.GET.get("tenant", "")}
        form = StartForm(initial=initial, auto_id="imp-%s")
        member = _member(str(initial["member"])[:254])
        return respond(
            request,
            "operators/impersonation_start.html",
            _start_context(form, member, request.user),
        )

    form = StartForm(request.POST, auto_id="imp-%s")
    member = _member(request.POST.get("member", "")[:254])
    if not form.is_valid():
        context = _start_context(form, member, request.user)
        return respond(request, "operators/impersonation_start.html", context, status=400)
    try:
        record = impersonation_start(
            member=member,
            reason=form.cleaned_data["reason"],
            actor=cast(User, request.user),  # operator_required vouches for it
            session_key=request.session.session_key,
            ip=client_ip(request),
        )
    except ApplicationError as err:
        form.add_error(err.field if err.field in form.fields else None, err.message)
        context = _start_context(form, member, request.user)
        return respond(
            request,
            "operators/impersonation_start.html",
            context,
            status=ERROR_STATUS.get(err.status_code, 400),
        )
    request.session[SESSION_KEY] = record.pk
    request.session[RETURN_KEY] = _return_url(request, form.cleaned_data["tenant"])
    name = record.member.name or record.member.email
    notice = Notice(
        "info",
        f"You are viewing the console as {name} until "
        f"{record.expires_at:%H:%M} UTC. Writes are off; every page you open is recorded.",
    )
    return redirect_with_notice(request, reverse("operators:member-view"), notice)


@operator_required
@require_POST
def exit_view(request: HttpRequest) -> HttpResponse:
    record = getattr(request, "impersonation", None)
    back = request.session.pop(RETURN_KEY, "") or reverse("console:overview")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("console:overview")
    request.session.pop(SESSION_KEY, None)
    if record is None:
        return redirect_with_notice(
            request, back, Notice("info", "You were not viewing as anyone: this is your own view.")
        )
    impersonation_end(
        impersonation=record, actor=cast(User, request.user), ended_reason=ImpersonationEnd.EXIT,
        ip=client_ip(request),
    )  # fmt: skip
    name = record.member.name or record.member.email
    return redirect_with_notice(
        request, back, Notice("success", f"You stopped viewing as {name}: this is your own view.")
    )


def _not_impersonating(request: HttpRequest) -> HttpResponse:
    """The member view without a member is where one is picked: the start page."""
    context = _start_context(StartForm(auto_id="imp-%s"), None, request.user)
    context["hint"] = "The member view shows a member's console: pick one and give a reason."
    return respond(request, "operators/impersonation_start.html", context)


@operator_required
@require_safe
def member_view(request: HttpRequest) -> HttpResponse:
    record = getattr(request, "impersonation", None)
    if record is None:
        return _not_impersonating(request)
    memberships = list(member_memberships(record.member))
    return respond(
        request,
        "operators/member_view.html",
        {"record": record, "member": record.member, "memberships": memberships},
    )


@operator_required
@require_safe
def member_tenant(request: HttpRequest, slug: str) -> HttpResponse:
    record = getattr(request, "impersonation", None)
    if record is None:
        return _not_impersonating(request)
    # The member's own access rule: a tenant they are not in is a 404, as in the API.
    tenant = tenant_selectors.tenant_get(user=record.member, slug=slug)
    members = list(tenant_selectors.tenant_members(tenant=tenant))
    role = next((m.get_role_display() for m in members if m.user_id == record.member_id), "")
    return respond(
        request,
        "operators/member_tenant.html",
        {
            "record": record,
            "member": record.member,
            "tenant": tenant,
            "members": members,
            "role": role,
        },
    )


def start_url(*, member: str = "", tenant: str = "") -> str:
    query = {k: v for k, v in (("member", member), ("tenant", tenant)) if v}
    url = reverse("operators:impersonation-start")
    return f"{url}?{urlencode(query)}" if query else url
