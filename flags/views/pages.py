"""The flags list and a flag's side panel. Reads only; every write is in
flags.views.editing, which answers through the same template and `page_context`.

The list's state (search, sort, page) is the query string and the open panel is the
path: `/flags/?q=sso&sort=-changed` is the list, `/flags/<key>/?q=sso&sort=-changed`
the same list with that flag's panel open. Every swap pushes one of those URLs and
every one of them is a whole page on a GET, so Back, Forward and reload give it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.views.decorators.http import require_GET

from console.lists import Filter, ListSpec, ListState, Sort
from console.palette import remember
from console.responder import is_fragment, respond
from core.errors import NotFound
from flags import selectors, staleness
from flags.forms import FlagCreateForm, FlagEditForm, FlagValuesForm
from flags.models import Flag, FlagState
from flags.presentation import (
    ago,
    delete_dialog,
    flag_reach,
    flag_rows,
    history_entries,
    kill_dialog,
    preview_context,
    reach_environments,
)
from operators.permissions import operator_required
from tenants.models import Plan

TEMPLATE = "flags/list.html"
RESULTS_ID = "flag-results"

# "Stale": flags whose answers no longer decide anything (flags.staleness).
VIEWS = (("", "All"), ("stale", "Stale"))

FLAGS = ListSpec(
    sorts=(
        Sort("key", "Key", ("key",)),
        Sort("state", "State", ("state_rank", "key")),
        Sort("rollout", "Rollout", ("rollout_pct", "key")),
        Sort("changed", "Last change", ("changed_at", "key")),
    ),
    default_sort="key",
    # The platform has tens of flags; a page of 100 keeps the pager for the unusual.
    page_size=100,
    filters=(Filter("view", "View", VIEWS),),
)


# ----------------------------------------------------------- the list state --


def list_state(request: HttpRequest, key: str | None = None) -> ListState:
    """The list as the operator sees it, on the page of the open flag `key` (or none).

    A GET reads its own query string. A write reads the page it was sent from: htmx
    says which (HX-Current-URL); a form posted without JavaScript carries the list's
    query in its action URL."""
    data = request.GET
    htmx = getattr(request, "htmx", None)
    if request.method != "GET" and htmx and htmx.current_url:
        data = QueryDict(urlsplit(htmx.current_url).query)
    path = reverse("flags:detail", args=[key]) if key else reverse("flags:list")
    return ListState.from_query(path, data, FLAGS)


def list_query(state: ListState) -> str:
    """The list's part of a URL ("?q=sso&sort=-changed", or "")."""
    url = state.url()
    return url[len(state.path) :]


def flag_url(key: str, state: ListState) -> str:
    return reverse("flags:detail", args=[key]) + list_query(state)


def list_url(state: ListState) -> str:
    return reverse("flags:list") + list_query(state)


def results_context(state: ListState, open_key: str = "") -> dict[str, Any]:
    """The list region: the rows of this page of the list, its count and links."""
    stale = state.filter("view") == "stale"
    page = state.paginate(
        selectors.flag_table(search=state.q, order_by=state.order_by, stale=stale)
    )
    return {
        "state": state,
        "page": page,
        "rows": flag_rows(page.object_list),
        "open_key": open_key,
        "query": list_query(state),
        "empty_search": f"No flag matches “{state.q}”{' among the stale ones' if stale else ''}.",
        **stale_context(state),
    }


def stale_context(state: ListState) -> dict[str, Any]:
    """The All / Stale chips (with counts that follow the search) and, in the Stale
    view, what "stale" means and whether the counts reach back far enough to say."""
    context: dict[str, Any] = {
        "view_chips": state.chips("view", VIEWS, staleness.view_counts(search=state.q)),
        "stale_view": state.filter("view") == "stale",
        "stale_days": settings.FLAG_STALE_DAYS,
    }
    if context["stale_view"]:
        since = staleness.counting_since()
        if since is None or since > staleness.window_start():
            context["stale_not_yet"] = since or "none"
    return context


# --------------------------------------------------------------- the panel --


def panel_context(
    flag: Flag,
    *,
    form: FlagEditForm | None = None,
    base_form: FlagValuesForm | None = None,
    conflict: Any = None,
    query: str = "",
) -> dict[str, Any]:
    """Everything the panel template needs. A bound `form` (after a refused save) keeps
    what the operator typed; `base_form` carries the values the edit started from.
    `query` is the list's ("?q=…&sort=…"), which the panel's forms carry back when
    they are posted without JavaScript."""
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
    key = flag.key
    return {
        "flag": flag,
        "query": query,
        "kill": kill_dialog(key, reverse("flags:kill", args=[key]) + query),
        "delete": delete_dialog(key, reverse("flags:delete", args=[key]) + query),
        "form": form,
        "base_form": base_form,
        "updated_ago": ago(flag.updated_at),
        "history": history_entries(flag.history.all()),
        "evaluations": staleness.evaluation_summary(key=flag.key),
        "preview": preview,
        "preview_form": form if form.is_bound else None,
        "conflict": conflict,
        "killed": flag.state == FlagState.OFF and flag.pct == 0,
        "states": FlagState.choices,
        "plans": Plan.choices,
        "environments": settings.ENVIRONMENTS,
        "server_environment": settings.DEZKY_ENVIRONMENT,
        # Reach now and the "why on or off" form (flags.views.explain).
        "reach": flag_reach(flag),
        "reach_environments": reach_environments(),
    }


def page_context(
    state: ListState,
    *,
    flag: Flag | None = None,
    create_form: FlagCreateForm | None = None,
    create_open: bool = False,
    **panel: Any,
) -> dict[str, Any]:
    """The whole page: the list, the panel of `flag` if one is open, the dialog."""
    context = {
        **results_context(state, open_key=flag.key if flag else ""),
        "create_form": create_form or FlagCreateForm(auto_id="new-flag-%s"),
        "create_open": create_open,
        "new_url": f"{reverse('flags:list')}?new=1",
    }
    if flag is not None:
        context.update(panel_context(flag, query=list_query(state), **panel))
    return context


def gone_response(request: HttpRequest, key: str) -> HttpResponse:
    """The panel of a flag that no longer exists (deleted in another tab or by someone
    else): a 404 that htmx swaps into the panel; as a page, the 404 page."""
    if not is_fragment(request):
        raise NotFound(f"There is no flag with the key {key}.")
    return respond(request, TEMPLATE, {"key": key}, partial="panel_gone", status=404)


# ------------------------------------------------------------------ views --


@operator_required
@require_GET
def flag_list(request: HttpRequest) -> HttpResponse:
    state = list_state(request)
    if is_fragment(request):
        return respond(request, TEMPLATE, results_context(state), partial="results")
    # /flags/?new=1 opens the New flag dialog (the command palette links there).
    context = page_context(state, create_open=request.GET.get("new") == "1")
    return respond(request, TEMPLATE, context)


@operator_required
@require_GET
def flag_detail(request: HttpRequest, key: str) -> HttpResponse:
    state = list_state(request, key)
    htmx = getattr(request, "htmx", None)
    if is_fragment(request) and htmx and htmx.target == RESULTS_ID:
        # A search, sort or page of the list while this flag's panel is open: only the
        # list changes, and the URL keeps naming the flag.
        return respond(request, TEMPLATE, results_context(state, open_key=key), partial="results")
    try:
        flag = selectors.flag_get(key=key)
    except NotFound:
        return gone_response(request, key)
    remember(
        request, kind="flag", key=flag.key, title=flag.key, url=reverse("flags:detail", args=[key])
    )
    if is_fragment(request):
        context = panel_context(flag, query=list_query(state))
        return respond(request, TEMPLATE, context, partial="panel")
    return respond(request, TEMPLATE, page_context(state, flag=flag))
