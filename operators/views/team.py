"""The operator team page, its invite dialog and discarding an unfinished invite.

The dialog posts to `invite`, which calls the same service as POST
/api/users/invite/ and answers with its true status: 201 with the credential, or the
form with the error in it as 400, 409, 429 (the service's refusals) or 502 (Authentik
failed). htmx swaps 4xx answers like 2xx (base.html), and the responder marks a 5xx it
rendered on purpose so that shell.js swaps it too: an error is shown where it happened.

`invite_discard` removes an unfinished invite. Its GET is the confirm dialog as a
page (for a click without JavaScript); its POST answers an htmx swap with the
refreshed list and a notice saying what happened, and a plain form with a redirect
to the team page and the notice as a message.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from console.responder import Notice, confirm_page, is_fragment, redirect_with_notice, respond
from core.errors import ApplicationError, NotFound
from core.request_meta import client_ip
from operators import selectors
from operators.forms import InviteForm
from operators.invites import InviteResult, operator_invite, operator_invite_discard
from operators.models import OperatorInvite
from operators.permissions import operator_required

FORM_PREFIX = "invite-%s"  # ids of the dialog's inputs: invite-name, invite-email
# What a refusal that is not about one field is called above its words.
ERROR_TITLES = {
    409: "Already taken",
    429: "Too many invites",
    502: "Authentik failed; nothing was finished",
}
GONE = Notice("info", "That invite is gone already: it was discarded meanwhile.")


def _authentik_admin_url() -> str:
    if settings.IDENTITY_MODE != "authentik":
        return ""
    return f"{settings.AUTHENTIK_URL.rstrip('/')}/if/admin/#/identity/users"


def team_context(*, notice: Notice | None = None) -> dict[str, Any]:
    """The team list (partial `team`) and, for the whole page, the invite dialog."""
    operators = list(selectors.operator_team())
    return {
        "operators": operators,
        "active_count": sum(1 for o in operators if o.is_active),
        # Each unfinished invite with the words of its discard confirmation.
        "invites": [(invite, discard_dialog(invite)) for invite in selectors.open_invites()],
        "team_notice": notice,
        "form": InviteForm(auto_id=FORM_PREFIX),
        "authentik_admin_url": _authentik_admin_url(),
    }


@operator_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    return respond(request, "operators/team.html", team_context(), partial="team")


def _retry_initial(request: HttpRequest) -> dict[str, str]:
    """A failed invite's name and email, to put back in the form for its retry."""
    try:
        invite_id = uuid.UUID(request.GET.get("retry", ""))
    except ValueError:
        return {}
    invite = selectors.open_invites().filter(pk=invite_id).first()
    return {"name": invite.name, "email": invite.email} if invite else {}


def _step(request: HttpRequest, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """The dialog's step (a swap) or the invite page (without JavaScript). Neither a
    credential nor what was typed may be kept by a cache or Back: the middleware
    makes fragments no-store, and `never_cache` the page."""
    return respond(request, "operators/invite.html", context, partial="step", status=status)


@operator_required
@never_cache
@sensitive_variables("result", "context")
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        initial = _retry_initial(request)
        form = InviteForm(initial=initial, auto_id=FORM_PREFIX)
        return _step(request, {"form": form, "retry": bool(initial)})

    form = InviteForm(request.POST, auto_id=FORM_PREFIX)
    if not form.is_valid():
        return _step(request, {"form": form}, status=400)
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
        return _step(request, {"form": form}, status=400)
    except ApplicationError as err:
        form.add_error(err.field if err.field in form.fields else None, err.message)
        context = {
            "form": form,
            "error_status": err.status_code,
            "error_title": ERROR_TITLES.get(err.status_code, "The invite was refused"),
        }
        return _step(request, context, status=err.status_code)
    response = _step(request, _credential_context(result), status=201)
    # The team list behind the dialog refreshes now; closing the dialog refreshes it again.
    response["HX-Trigger"] = "operators:invited"
    return response


def _credential_context(result: InviteResult) -> dict[str, Any]:
    return {"result": result, "username": result.email}


@operator_required
@require_http_methods(["GET", "POST"])
def invite_discard(request: HttpRequest, invite_id: uuid.UUID) -> HttpResponse:
    invite = OperatorInvite.objects.filter(pk=invite_id).first()
    if request.method == "GET":
        return _discard_confirm_page(request, invite)
    if invite is None:
        notice, status = GONE, 200
    else:
        try:
            operator_invite_discard(invite=invite, actor=request.user, ip=client_ip(request))
        except NotFound:  # discarded by someone else since the row was read
            notice, status = GONE, 200
        except ApplicationError as err:
            notice, status = Notice("danger", err.message), err.status_code
        else:
            notice, status = Notice("success", f"Discarded the invite of {invite.email}."), 200
    if not is_fragment(request):
        return redirect_with_notice(request, reverse("operators:team"), notice)
    context = team_context(notice=notice)
    return respond(request, "operators/team.html", context, partial="team", status=status)


def _discard_confirm_page(request: HttpRequest, invite: OperatorInvite | None) -> HttpResponse:
    """Where Discard leads without JavaScript: its confirm dialog, as a page. An invite
    that is gone already has nothing to confirm: the team page says so."""
    if invite is None:
        return respond(request, "operators/team.html", team_context(notice=GONE))
    return confirm_page(request, **discard_dialog(invite), cancel_url=reverse("operators:team"))


def discard_dialog(invite: OperatorInvite) -> dict[str, str]:
    """The words of an invite's discard confirmation, the same in its dialog and page."""
    return {
        "id": f"discard-invite-{invite.pk}",
        "title": f"Discard the invite of {invite.email}?",
        "text": (
            "It leaves this list for good and can no longer be retried. "
            "The audit log keeps a record of it."
        ),
        "note": (
            "Authentik is not touched: an account Authentik already made for this invite "
            "stays there, and a new invite for this email is refused until that account is "
            "removed or added to the operators' group in Authentik by hand."
            if invite.directory == "authentik"
            else ""
        ),
        "confirm": "Discard invite",
        "url": reverse("operators:invite_discard", kwargs={"invite_id": invite.pk}),
        "icon": "trash-2",
    }
