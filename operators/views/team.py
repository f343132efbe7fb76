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

An operator row's actions (`deactivate`, `reactivate`, `resend_invite`) work the
same way. Resend's answer carries a new credential: on a swap it is shown once above
the refreshed list; without JavaScript it is a page of its own (never a redirect,
which would have to keep the credential somewhere to show it).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
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
from operators.lifecycle import (
    ResendResult,
    deactivate_refusal,
    operator_deactivate,
    operator_reactivate,
    operator_resend_invite,
    reactivate_refusal,
    resend_refusal,
)
from operators.models import OperatorInvite, User
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


def team_context(
    *,
    notice: Notice | None = None,
    actor: User | None = None,
    resent: ResendResult | None = None,
) -> dict[str, Any]:
    """The team list (partial `team`) and, for the whole page, the invite dialog.
    `actor` (the signed-in operator) gives each row its actions; `resent` is a new
    credential to show once above the list."""
    operators = list(selectors.operator_team())
    active_count = sum(1 for o in operators if o.is_active)
    return {
        "operators": operators,
        "operator_rows": [
            (person, operator_actions(person, actor=actor, active_count=active_count))
            for person in operators
        ]
        if actor is not None
        else [(person, []) for person in operators],
        "resent": resent,
        "active_count": active_count,
        # Each unfinished invite with the words of its discard confirmation.
        "invites": [(invite, discard_dialog(invite)) for invite in selectors.open_invites()],
        "team_notice": notice,
        "form": InviteForm(auto_id=FORM_PREFIX),
        "authentik_admin_url": _authentik_admin_url(),
        "no_recovery_flow_since": _no_recovery_flow_since(),
    }


def _no_recovery_flow_since() -> datetime | None:
    """When an invite last found no recovery flow on Authentik's brand, if it did."""
    if settings.IDENTITY_MODE != "authentik":
        return None
    from operators.directory.authentik import recovery_flow_missing_since

    since = recovery_flow_missing_since()
    return datetime.fromtimestamp(since, tz=UTC) if since is not None else None


@operator_required
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    context = team_context(actor=request.user)
    return respond(request, "operators/team.html", context, partial="team")


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
    context = team_context(notice=notice, actor=request.user)
    return respond(request, "operators/team.html", context, partial="team", status=status)


def _discard_confirm_page(request: HttpRequest, invite: OperatorInvite | None) -> HttpResponse:
    """Where Discard leads without JavaScript: its confirm dialog, as a page. An invite
    that is gone already has nothing to confirm: the team page says so."""
    if invite is None:
        context = team_context(notice=GONE, actor=request.user)
        return respond(request, "operators/team.html", context)
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


# --- an operator row's actions -------------------------------------------------------

OPERATOR_GONE = Notice("info", "That operator is no longer on the team.")


def operator_actions(person: User, *, actor: User, active_count: int) -> list[dict[str, str]]:
    """A row's actions, each with the words of its confirmation and why it does not
    apply now ("" when it does): Deactivate or Reactivate, and Resend invite for an
    operator who never signed in."""
    who = person.name or person.email
    if person.is_active:
        toggle = {
            "key": "deactivate",
            "label": "Deactivate",
            "title": f"Deactivate {who}?",
            "text": (
                f"{person.email} can no longer sign in and their open sessions end at once. "
                "You can reactivate them later. This is recorded in the audit log."
            ),
            "note": (
                "Their Authentik account is deactivated and taken out of the operators' "
                "group; it is not deleted."
                if settings.IDENTITY_MODE == "authentik"
                else ""
            ),
            "confirm": "Deactivate",
            "tone": "danger",
            "icon": "ban",
            "why": deactivate_refusal(user=person, actor=actor, active_count=active_count),
        }
    else:
        toggle = {
            "key": "reactivate",
            "label": "Reactivate",
            "title": f"Reactivate {who}?",
            "text": (
                f"{person.email} can sign in again with their own credentials. "
                "This is recorded in the audit log."
            ),
            "note": (
                "Their Authentik account is activated and put back in the operators' group."
                if settings.IDENTITY_MODE == "authentik"
                else ""
            ),
            "confirm": "Reactivate",
            "tone": "primary",
            "icon": "circle-check",
            "why": reactivate_refusal(user=person, actor=actor),
        }
    actions = [toggle]
    if person.last_login is None:
        link_or_password = (
            "a new recovery link (or, without a recovery flow in Authentik, a new temporary "
            "password)"
            if settings.IDENTITY_MODE == "authentik"
            else "a new temporary password"
        )
        actions.append(
            {
                "key": "resend",
                "label": "Resend invite",
                "title": f"Resend the invite of {who}?",
                "text": (
                    f"You get {link_or_password} for {person.email}, shown once, to hand "
                    "over yourself; the console sends no email. Any earlier one they were "
                    "given stops working if it was a password."
                ),
                "note": "",
                "confirm": "Make a new credential",
                "tone": "primary",
                "icon": "key-round",
                "why": resend_refusal(user=person),
            }
        )
    for action in actions:
        action["dialog"] = f"{action['key']}-operator-{person.pk}"
        action["url"] = reverse(f"operators:{action['key']}", kwargs={"user_id": person.pk})
    return actions


def _operator(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, platform_admin=True).first()


def _action_confirm_page(request: HttpRequest, person: User | None, key: str) -> HttpResponse:
    """An action's dialog as a page (no JavaScript); when it does not apply, the page
    says why (the POST would be refused with the same reason)."""
    if person is None:
        context = team_context(notice=OPERATOR_GONE, actor=request.user)
        return respond(request, "operators/team.html", context)
    active_count = User.objects.filter(platform_admin=True, is_active=True).count()
    actions = {a["key"]: a for a in operator_actions(person, actor=request.user,
                                                     active_count=active_count)}  # fmt: skip
    action = actions.get(key)
    if action is None:  # reactivate on an active operator, resend after a sign-in…
        return redirect_with_notice(
            request, reverse("operators:team"), Notice("info", "That action does not apply now.")
        )
    return confirm_page(
        request,
        id=action["dialog"],
        title=action["title"],
        text=action["text"],
        confirm=action["confirm"],
        url=action["url"],
        cancel_url=reverse("operators:team"),
        tone=action["tone"],
        icon=action["icon"],
        note=action["why"] or action["note"],
    )


def _after_action(
    request: HttpRequest, notice: Notice, *, status: int = 200, resent: ResendResult | None = None
) -> HttpResponse:
    if not is_fragment(request):
        return redirect_with_notice(request, reverse("operators:team"), notice)
    context = team_context(notice=notice, actor=request.user, resent=resent)
    return respond(request, "operators/team.html", context, partial="team", status=status)


def _lifecycle_view(key: str, run: Any, done: str) -> Any:
    @operator_required
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, user_id: int) -> HttpResponse:
        person = _operator(user_id)
        if request.method == "GET":
            return _action_confirm_page(request, person, key)
        if person is None:
            return _after_action(request, OPERATOR_GONE)
        try:
            run(user=person, actor=request.user, ip=client_ip(request))
        except ApplicationError as err:
            return _after_action(request, Notice("danger", err.message), status=err.status_code)
        return _after_action(request, Notice("success", done.format(email=person.email)))

    view.__name__ = f"operator_{key}"
    return view


deactivate = _lifecycle_view(
    "deactivate",
    operator_deactivate,
    "Deactivated {email}: they can no longer sign in and their sessions have ended.",
)
reactivate = _lifecycle_view(
    "reactivate", operator_reactivate, "Reactivated {email}: they can sign in again."
)


@operator_required
@never_cache
@sensitive_variables("result", "context")
@require_http_methods(["GET", "POST"])
def resend_invite(request: HttpRequest, user_id: int) -> HttpResponse:
    person = _operator(user_id)
    if request.method == "GET":
        return _action_confirm_page(request, person, "resend")
    if person is None:
        return _after_action(request, OPERATOR_GONE)
    try:
        result = operator_resend_invite(user=person, actor=request.user, ip=client_ip(request))
    except ApplicationError as err:
        return _after_action(request, Notice("danger", err.message), status=err.status_code)
    if not is_fragment(request):
        # TRICKY: not a redirect; the credential would have to be kept to be shown after it.
        context = {"resent": result, "standalone": True}
        return respond(request, "operators/resend.html", context)
    notice = Notice("success", f"A new credential for {person.email} is below, shown this once.")
    return _after_action(request, notice, resent=result)
