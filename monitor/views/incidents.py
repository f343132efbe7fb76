"""Incidents: the list, opening one, its page (the same content as its dialog), and
posting an update or resolving it from the composer.

The composer and the resolve form post with htmx and get the incident's fresh body
back (metrics, timeline, composer), or, without JavaScript, a redirect to the
incident's page with a message. Invalid input is answered 400 with the errors on
their fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.lists import Filter, ListSpec, ListState
from console.responder import Notice, is_fragment, redirect_with_notice, respond
from core.errors import ApplicationError
from core.request_meta import client_ip
from monitor import selectors, services
from monitor.forms import IncidentOpenForm, IncidentResolveForm, IncidentUpdateForm, errors_from
from monitor.models import Incident
from operators.permissions import operator_required

STATES = (("", "All"), ("open", "Open"), ("resolved", "Resolved"))
INCIDENTS = ListSpec(filters=(Filter("state", "State", STATES),), search=False, page_size=25)


@operator_required
@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    state = ListState.from_request(request, INCIDENTS)
    context = {
        "state": state,
        "page": state.paginate(selectors.incident_list(state=state.filter("state"))),
        "chips": state.chips("state", STATES, selectors.incident_counts()),
    }
    return respond(request, "monitor/incidents.html", context, partial="results")


@operator_required
@require_http_methods(["GET", "POST"])
def incident_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = IncidentOpenForm(initial={"severity": "major"})
        return respond(request, "monitor/incident_new.html", {"form": form})
    form = IncidentOpenForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            incident = services.incident_open(
                actor=request.user, title=data["title"], severity=data["severity"],
                body=data["body"], affected_components=data["affected_components"],
                affected_tenants=data["affected_tenants"], ip=client_ip(request),
            )  # fmt: skip
        except (ValidationError, ApplicationError) as error:
            errors_from(form, error)
        else:
            url = reverse("monitor:incident", kwargs={"pk": incident.pk})
            return redirect_with_notice(
                request, url, Notice("success", f"Incident opened: {incident.title}.")
            )
    return respond(request, "monitor/incident_new.html", {"form": form}, status=400)


def incident_context(
    incident: Incident,
    *,
    update_form: IncidentUpdateForm | None = None,
    resolve_form: IncidentResolveForm | None = None,
    notice: Notice | None = None,
) -> dict[str, Any]:
    return {
        **selectors.incident_detail(incident),
        "update_form": update_form
        or IncidentUpdateForm(initial={"status": incident.status}, auto_id="id_update_%s"),
        "resolve_form": resolve_form or IncidentResolveForm(auto_id="id_resolve_%s"),
        "notice": notice,
    }


@operator_required
@require_GET
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = selectors.incident_get(pk=pk)
    return respond(request, "monitor/incident.html", incident_context(incident), partial="body")


def _answer(
    request: HttpRequest, incident: Incident, context: dict[str, Any], *, status: int,
    notice: Notice | None = None,
) -> HttpResponse:  # fmt: skip
    """After a post: the incident's fresh body (htmx), or its page again (errors, no JS),
    or a redirect to it with the outcome."""
    if notice is not None and status < 400 and not is_fragment(request):
        url = reverse("monitor:incident", kwargs={"pk": incident.pk})
        return redirect_with_notice(request, url, notice)
    return respond(request, "monitor/incident.html", context, partial="body", status=status)


@operator_required
@require_POST
def incident_update(request: HttpRequest, pk: int) -> HttpResponse:
    def post(incident: Incident, data: dict[str, Any]) -> str:
        services.incident_post_update(
            actor=request.user, incident=incident, status=data["status"], body=data["body"],
            ip=client_ip(request),
        )  # fmt: skip
        return f"Update posted: {selectors.incident_get(pk=pk).get_status_display()}."

    form = IncidentUpdateForm(request.POST, auto_id="id_update_%s")
    return _incident_step(request, pk, form, "update_form", post)


@operator_required
@require_POST
def incident_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    def resolve(incident: Incident, data: dict[str, Any]) -> str:
        resolved = services.incident_resolve(
            actor=request.user, incident=incident, body=data["body"], ip=client_ip(request)
        )
        return f"Incident resolved: {resolved.title}."

    form = IncidentResolveForm(request.POST, auto_id="id_resolve_%s")
    return _incident_step(request, pk, form, "resolve_form", resolve)


def _incident_step(
    request: HttpRequest,
    pk: int,
    form: Any,
    form_name: str,
    step: Callable[[Incident, dict[str, Any]], str],
) -> HttpResponse:
    """Validate the composer's form, run the step, answer with the incident again: the
    form with its errors (400, or the refusal's own status) or the outcome as a notice."""
    incident = selectors.incident_get(pk=pk)
    if not form.is_valid():
        return _answer(
            request, incident, incident_context(incident, **{form_name: form}), status=400
        )
    try:
        said = step(incident, form.cleaned_data)
    except (ValidationError, ApplicationError) as error:
        errors_from(form, error)
        status = getattr(error, "status_code", 400)
        return _answer(
            request, incident, incident_context(incident, **{form_name: form}), status=status
        )
    incident = selectors.incident_get(pk=pk)
    notice = Notice("success", said)
    return _answer(
        request, incident, incident_context(incident, notice=notice), status=200, notice=notice
    )
