"""Verify now: the chain check an operator starts from the audit page.

One URL, like every console action: a GET is its confirmation as a page (where the
button leads without JavaScript), a POST runs `audit.integrity.verify_chain`, which
walks the chain, stores the verification and records its own audit event. With htmx
the answer is the fresh status card with the outcome in it; without, a redirect to
the audit page with the outcome as a message.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from audit import integrity
from audit.integrity import FULL_WALK_LIMIT
from console.responder import Notice, confirm_page, is_fragment, redirect_with_notice, respond
from core.request_meta import client_ip
from operators.permissions import operator_required

DIALOG = {
    "id": "verify-chain-dialog",
    "title": "Verify the audit chain now?",
    "text": "Each event's hash is recomputed and the chain is held to the last signed "
    f"checkpoint: the whole chain up to {FULL_WALK_LIMIT:,} events; a longer one from "
    "that checkpoint on (manage.py verify_audit_chain walks all of it). The check is "
    "recorded in the audit log.",
    "confirm": "Verify now",
    "tone": "primary",
    "icon": "shield-check",
}


def dialog() -> dict[str, str]:
    return {**DIALOG, "url": reverse("audit:verify")}


@operator_required
@require_http_methods(["GET", "POST"])
def chain_verify(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return confirm_page(request, **dialog(), cancel_url=reverse("audit:list"))
    outcome = integrity.verify_chain(actor=request.user, ip=client_ip(request))
    notice = Notice("success" if outcome.ok else "danger", outcome.message)
    if not is_fragment(request):
        return redirect_with_notice(request, reverse("audit:list"), notice)
    context = {"verification": integrity.last_verification(), "notice": notice, "dialog": dialog()}
    return respond(request, "audit/list.html", context, partial="chain_status")
