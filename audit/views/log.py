"""`/audit/`: every event, newest first, filtered and keyset-paged; `/audit/<id>/`:
one event with its changes and its place in the chain.

The URL is the whole state of the list (filters, search and cursor), so a swap,
Back, Forward and reload give the same page; `respond()` sends the `results`
partial to a swap and the whole page to anything else. The filters are not slugs
(an email, a dotted code, dates), so `AuditFilterForm` validates them, a bad one is
a 400 naming the field, and the list state carries the clean values.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from audit import actions, integrity, selectors
from audit.forms import KIND_PREFIX, SYSTEM, AuditFilterForm, error_list
from audit.selectors import AuditPage
from audit.views.chain import dialog as chain_dialog
from console.lists import Chip, Filter, ListSpec, ListState
from console.responder import respond
from core.errors import NotFound
from operators.permissions import operator_required

FILTER_LABELS = {
    "actor": "Actor",
    "action": "Action",
    "tenant": "Tenant",
    "target_type": "Target type",
    "target_id": "Target id",
    "target": "Target name",
    "since": "From",
    "until": "To",
}
# The list's state: the search box's `q` and these filters; clean values come from
# the form, never from Filter.clean (which takes slugs only).
AUDIT = ListSpec(
    filters=tuple(Filter(name, label) for name, label in FILTER_LABELS.items()),
    page_size=selectors.PAGE_SIZE,
)
_MAX_ID = 2**63 - 1


def action_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The action filter's options: per kind, "any action of the kind" then each action."""
    groups = []
    for kind, members in actions.kinds():
        options = [(f"{KIND_PREFIX}{kind}", f"Any {kind.lower()} action")]
        options += [(a.code, _action_label(a)) for a in members]
        groups.append((kind, options))
    return groups


def _action_label(action: actions.Action) -> str:
    return action.sentence.replace("{actor} ", "").replace("{target}", "…")


def _filter_text(name: str, value: str) -> str:
    if name == "action":
        if value.startswith(KIND_PREFIX):
            return f"any {value[len(KIND_PREFIX) :].lower()} action"
        found = actions.get(value)
        return _action_label(found) if found else value
    if name == "actor" and value == SYSTEM:
        return "the system"
    return value


def active_chips(state: ListState) -> list[Chip]:
    """A chip for each filter in use; following it removes that filter."""
    chips = []
    for name, value in state.active_filters.items():
        label = f"{FILTER_LABELS[name]}: {_filter_text(name, value)}"
        chips.append(Chip(name, label, None, state.url(**{name: ""}), False, f"chip-{name}"))
    if state.q:
        chips.append(Chip("q", f"Search: {state.q}", None, state.url(q=""), False, "chip-q"))
    return chips


def list_state(request: HttpRequest, form: AuditFilterForm) -> ListState:
    query = form.query()
    return ListState(
        path=request.path,
        spec=AUDIT,
        q=query.pop("q", ""),
        filters={name: query.get(name, "") for name in FILTER_LABELS},
    )


def _pager(state: ListState, page: AuditPage | None) -> dict[str, str]:
    if page is None:
        return {}
    return {
        "older_url": state.url(cursor=page.older.token) if page.older else "",
        "newer_url": state.url(cursor=page.newer.token) if page.newer else "",
        "newest_url": "" if page.newest else state.url(),
    }


def list_context(request: HttpRequest, form: AuditFilterForm) -> dict[str, Any]:
    valid = form.is_valid()
    state = list_state(request, form)
    page = selectors.audit_page(form.filters(), form.cleaned_data["cursor"]) if valid else None
    query = state.params()
    return {
        "form": form,
        "errors": error_list(form),
        "errors_text": " ".join(f"{label}: {message}" for _, label, message in error_list(form)),
        "state": state,
        "page": page,
        "pager": _pager(state, page),
        "chips": active_chips(state),
        "action_groups": action_groups(),
        "export_query": f"?{state.url().partition('?')[2]}" if query else "",
        "verification": integrity.last_verification(),
        "dialog": chain_dialog(),
    }


@operator_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    context = list_context(request, form)
    status = 400 if context["errors"] else 200
    return respond(request, "audit/list.html", context, partial="results", status=status)


@operator_required
@require_GET
def audit_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    if event_id > _MAX_ID:  # beyond any database integer: no such event, not an overflow
        raise NotFound(f"No audit event has the id {event_id}.", field="id")
    detail = selectors.event_detail(event_id=event_id)  # NotFound is the 404 page
    event = detail.row.event
    context = {
        "detail": detail,
        "event": event,
        "eyebrow": f"Audit event #{event.id}",
        "metadata_json": json.dumps(event.metadata, indent=2, sort_keys=True, ensure_ascii=False),
    }
    return respond(request, "audit/detail.html", context)
