"""The flags list and a flag's side panel. Reads only; every write is in
flags.views.editing, which renders the same panel through `panel_context`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.lists import search_term
from console.responder import is_fragment
from core.errors import NotFound
from flags import selectors
from flags.forms import FlagCreateForm, FlagEditForm, FlagValuesForm
from flags.models import Flag, FlagState
from flags.presentation import (
    STATE_TONES,
    FlagRow,
    ago,
    flag_rows,
    history_entries,
    preview_context,
)
from operators.permissions import operator_required
from tenants.models import Plan


def list_context(*, search: str, rows: list[FlagRow]) -> dict[str, Any]:
    return {
        "rows": rows,
        "search": search,
        "create_form": FlagCreateForm(auto_id="new-flag-%s"),
    }


@operator_required
@require_GET
def flag_list(request: HttpRequest) -> HttpResponse:
    search = search_term(request.GET)
    rows = flag_rows(search=search)
    if is_fragment(request):
        return render(
            request, "flags/list.html#rows", {"rows": rows, "search": search, "oob_count": True}
        )
    return render(request, "flags/list.html", list_context(search=search, rows=rows))


# --------------------------------------------------------------- the panel --


def panel_context(
    flag: Flag,
    *,
    form: FlagEditForm | None = None,
    base_form: FlagValuesForm | None = None,
    conflict: Any = None,
) -> dict[str, Any]:
    """Everything the panel template needs. A bound `form` (after a refused save) keeps
    what the operator typed; `base_form` carries the values the edit started from."""
    initial = FlagValuesForm.initial_from(flag)
    if form is None:
        form = FlagEditForm(initial={**initial, "expected_version": flag.version}, auto_id="f-%s")
    if base_form is None:
        base_form = FlagValuesForm(initial=initial, prefix="base", auto_id=False)
    preview = None
    if not form.is_bound:
        preview = preview_context(key=flag.key, state=flag.state, pct=flag.pct, scope=flag.scope)
    elif form.is_valid():
        data = form.cleaned_data
        preview = preview_context(
            key=flag.key, state=data["state"], pct=data["pct"], scope=form.scope()
        )
    return {
        "flag": flag,
        "form": form,
        "base_form": base_form,
        "tone": STATE_TONES.get(flag.state, "neutral"),
        "updated_ago": ago(flag.updated_at),
        "history": history_entries(flag.history.all()),
        "preview": preview,
        "conflict": conflict,
        "killed": flag.state == FlagState.OFF and flag.pct == 0,
        "states": FlagState.choices,
        "plans": Plan.choices,
        "environments": settings.ENVIRONMENTS,
        "server_environment": settings.DEZKY_ENVIRONMENT,
    }


def gone_response(request: HttpRequest, key: str) -> HttpResponse:
    """The panel of a flag that no longer exists (deleted in another tab or by someone else)."""
    return render(request, "flags/panel_gone.html", {"key": key})


@operator_required
@require_GET
def flag_detail(request: HttpRequest, key: str) -> HttpResponse:
    try:
        flag = selectors.flag_get(key=key)
    except NotFound as error:
        if is_fragment(request):
            return gone_response(request, key)
        raise Http404(error.message) from None
    context = panel_context(flag)
    if is_fragment(request):
        return render(request, "flags/panel.html", context)
    search = search_term(request.GET)
    return render(
        request,
        "flags/list.html",
        {**list_context(search=search, rows=flag_rows(search=search)), **context},
    )
