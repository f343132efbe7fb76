"""The Users tab's actions: inviting a member, changing a member's role, removing one.

The invite dialog follows the operator invite's (operators/views/team.py): its POST
calls the same service as POST /api/tenants/{slug}/members/invite/ and answers with
its true status: 201 with the credential, 200 when an existing account was added
(no credential), or the form with the error as 400, 409, 429 or 502. Role change
and removal answer like every tenant action (tenants/views/detail.py `_done`): the
fresh `#tenant-detail` on the Users tab with the outcome, or a redirect back to it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from console.responder import Notice, confirm_page, respond
from core.errors import ApplicationError
from core.request_meta import client_ip
from operators.permissions import operator_required
from tenants import selectors
from tenants.members import (
    MemberInviteResult,
    last_owner_refusal,
    member_invite,
    member_remove,
    member_set_role,
)
from tenants.models import MemberRole, Membership, Tenant
from tenants.views.detail import _detail_url, _done, detail_context

FORM_PREFIX = "member-%s"  # ids of the dialog's inputs: member-name, member-email, member-role
ERROR_TITLES = {
    409: "Cannot invite this person",
    429: "Too many invites",
    502: "Authentik failed; nothing was finished",
}


class MemberInviteForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=MemberRole.choices, initial=MemberRole.MEMBER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=MemberRole.choices)


def invite_form(data: Any = None) -> MemberInviteForm:
    return MemberInviteForm(data, auto_id=FORM_PREFIX)


def _step(
    request: HttpRequest, tenant: Tenant, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """The dialog's step (a swap) or the invite page (without JavaScript); neither may
    be kept by a cache (fragments are no-store, the page `never_cache`)."""
    context = {"tenant": tenant, "users_url": _detail_url(tenant, "users"), **context}
    return respond(request, "tenants/member_invite.html", context, partial="step", status=status)


@operator_required
@never_cache
@sensitive_variables("result", "context")
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = selectors.tenant_get(user=request.user, slug=slug)
    if request.method == "GET":
        return _step(request, tenant, {"form": invite_form()})
    form = invite_form(request.POST)
    if not form.is_valid():
        return _step(request, tenant, {"form": form}, status=400)
    try:
        result = member_invite(
            tenant=tenant,
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            actor=request.user,
            ip=client_ip(request),
        )
    except ValidationError as err:
        for field, messages in err.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
        return _step(request, tenant, {"form": form}, status=400)
    except ApplicationError as err:
        form.add_error(err.field if err.field in form.fields else None, err.message)
        context = {
            "form": form,
            "error_status": err.status_code,
            "error_title": ERROR_TITLES.get(err.status_code, "The invite was refused"),
        }
        return _step(request, tenant, context, status=err.status_code)
    response = _step(request, tenant, _result_context(result),
                     status=200 if result.existing_account else 201)  # fmt: skip
    # The member list behind the dialog refreshes now; closing the dialog refreshes it again.
    response["HX-Trigger"] = "tenants:member-invited"
    return response


def _result_context(result: MemberInviteResult) -> dict[str, Any]:
    return {"result": result, "role_label": MemberRole(result.role).label}


def _membership(tenant: Tenant, user_id: int) -> Membership | None:
    return (
        Membership.objects.select_related("user", "tenant")
        .filter(tenant=tenant, user_id=user_id)
        .first()
    )


GONE = Notice("info", "That person is not a member of this tenant any more.")


@operator_required
@require_POST
def set_role(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    tenant = selectors.tenant_get(user=request.user, slug=slug)
    membership = _membership(tenant, user_id)
    if membership is None:
        return _done(request, tenant, "users", GONE)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        notice = Notice("danger", "Role: choose owner, admin or member.")
        return _done(request, tenant, "users", notice, status=400)
    role = form.cleaned_data["role"]
    try:
        _, changed = member_set_role(
            membership=membership, role=role, actor=request.user, ip=client_ip(request)
        )
    except ApplicationError as err:
        return _done(request, tenant, "users", Notice("danger", err.message),
                     status=err.status_code)  # fmt: skip
    email, label = membership.user.email, MemberRole(role).label.lower()
    notice = (
        Notice("success", f"{email} is now {_article(label)} {label}.")
        if changed
        else Notice("info", f"{email} is {_article(label)} {label} already; nothing changed.")
    )
    return _done(request, tenant, "users", notice)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def remove_dialog(tenant: Tenant, membership: Membership) -> dict[str, str]:
    """The words of a member's removal confirmation, the same in its dialog and page."""
    user = membership.user
    return {
        "id": f"remove-member-{user.pk}",
        "title": f"Remove {user.name or user.email} from {tenant.name}?",
        "text": (
            f"{user.email} loses their {membership.get_role_display().lower()} role here. "
            "This is recorded in the audit log."
        ),
        "note": (
            "Their account is taken out of this tenant's group in Authentik; the account "
            "itself stays (it may belong to other tenants)."
            if user.authentik_pk
            else ""
        ),
        "confirm": "Remove member",
        "url": reverse("tenants:member_remove", kwargs={"slug": tenant.slug, "user_id": user.pk}),
    }


@operator_required
@require_http_methods(["GET", "POST"])
def remove(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    tenant = selectors.tenant_get(user=request.user, slug=slug)
    membership = _membership(tenant, user_id)
    if request.method == "GET":
        if membership is None:  # nothing to confirm: the Users tab says so
            context = detail_context(request, tenant, "users", notice=GONE)
            return respond(request, "tenants/detail.html", context)
        owners = Membership.objects.filter(tenant=tenant, role=MemberRole.OWNER).count()
        dialog = remove_dialog(tenant, membership)
        return confirm_page(
            request,
            id=dialog["id"],
            title=dialog["title"],
            text=dialog["text"],
            confirm=dialog["confirm"],
            url=dialog["url"],
            cancel_url=_detail_url(tenant, "users"),
            icon="trash-2",
            note=last_owner_refusal(membership, owners) or dialog["note"],
        )
    if membership is None:
        return _done(request, tenant, "users", GONE)
    try:
        member_remove(membership=membership, actor=request.user, ip=client_ip(request))
    except ApplicationError as err:
        return _done(request, tenant, "users", Notice("danger", err.message),
                     status=err.status_code)  # fmt: skip
    notice = Notice("success", f"Removed {membership.user.email} from {tenant.name}.")
    return _done(request, tenant, "users", notice)
