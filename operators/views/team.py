"""The operator team page and its invite dialog.

The dialog posts to `invite`, which calls the same service as POST
/api/users/invite/. Its answers keep their HTTP status (400, 409, 429, 502);
operators.js lets htmx swap those into the dialog, so an error is shown where it
happened instead of being dropped.

`invite_discard` removes an unfinished invite (after the row's confirm dialog) and
answers with the refreshed list and a notice saying what happened.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.responder import is_fragment
from core.errors import ApplicationError
from core.request_meta import client_ip
from operators import selectors
from operators.forms import InviteForm
from operators.invites import InviteResult, operator_invite, operator_invite_discard
from operators.models import OperatorInvite
from operators.permissions import operator_required

FORM_PREFIX = "invite-%s"  # ids of the dialog's inputs: invite-name, invite-email
# How loud each unfinished state is on the team page.
INVITE_TONES = {"started": "info", "directory_user_created": "warning", "failed": "danger"}


def _authentik_admin_url() -> str:
    if settings.IDENTITY_MODE != "authentik":
        return ""
    return f"{settings.AUTHENTIK_URL.rstrip('/')}/if/admin/#/identity/users"


def team_context() -> dict[str, Any]:
    operators = list(selectors.operator_team())
    invites = list(selectors.open_invites())
    for invite in invites:
        invite.tone = INVITE_TONES.get(invite.state, "neutral")
        invite.discard_dialog_id = f"discard-invite-{invite.pk}"
    return {
        "operators": operators,
        "active_count": sum(1 for o in operators if o.is_active),
        "invites": invites,
        "identity_mode": settings.IDENTITY_MODE,
    }


@operator_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    context = team_context()
    if is_fragment(request):
        return render(request, "operators/team.html#team", context)
    context.update(
        form=InviteForm(auto_id=FORM_PREFIX),
        in_dialog=True,
        authentik_admin_url=_authentik_admin_url(),
    )
    return render(request, "operators/team.html", context)


def _retry_initial(request: HttpRequest) -> dict[str, str]:
    """A failed invite's name and email, to put back in the form for its retry."""
    try:
        invite_id = uuid.UUID(request.GET.get("retry", ""))
    except ValueError:
        return {}
    invite = selectors.open_invites().filter(pk=invite_id).first()
    return {"name": invite.name, "email": invite.email} if invite else {}


def _render_step(
    request: HttpRequest, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    fragment = is_fragment(request)
    context.update(identity_mode=settings.IDENTITY_MODE, in_dialog=fragment)
    template = "operators/invite.html#step" if fragment else "operators/invite.html"
    response = render(request, template, context, status=status)
    # A credential or a form with what was typed: no cache or Back may keep either.
    response["Cache-Control"] = "no-store"
    return response


@operator_required
@never_cache
@sensitive_variables("result", "context")
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        initial = _retry_initial(request)
        form = InviteForm(initial=initial, auto_id=FORM_PREFIX)
        return _render_step(request, {"form": form, "retry": bool(initial)})

    form = InviteForm(request.POST, auto_id=FORM_PREFIX)
    if not form.is_valid():
        return _render_step(request, {"form": form}, status=400)
    try:
        result = operator_invite(
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            actor=request.user,
            ip=client_ip(request),
        )
    except ValidationError as err:
        for field, messages in err.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
        return _render_step(request, {"form": form}, status=400)
    except ApplicationError as err:
        form.add_error(err.field if err.field in form.fields else None, err.message)
        context = {"form": form, "error_status": err.status_code}
        return _render_step(request, context, status=err.status_code)
    response = _render_step(request, _credential_context(result), status=201)
    # The team list behind the dialog refreshes now; closing the dialog refreshes it again.
    response["HX-Trigger"] = "operators:invited"
    return response


def _credential_context(result: InviteResult) -> dict[str, Any]:
    return {"result": result, "username": result.email}


@operator_required
@require_POST
def invite_discard(request: HttpRequest, invite_id: uuid.UUID) -> HttpResponse:
    invite = OperatorInvite.objects.filter(pk=invite_id).first()
    if invite is None:
        tone, text = "info", "That invite is gone already: it was discarded meanwhile."
    else:
        try:
            operator_invite_discard(invite=invite, actor=request.user, ip=client_ip(request))
        except ApplicationError as err:
            tone, text = "danger", err.message
        else:
            tone, text = "success", f"Discarded the invite of {invite.email}."
    if not is_fragment(request):
        level = {"success": messages.SUCCESS, "info": messages.INFO}.get(tone, messages.ERROR)
        messages.add_message(request, level, text)
        return redirect("operators:team")
    context = {**team_context(), "team_notice": {"tone": tone, "text": text}}
    return render(request, "operators/team.html#team", context)
