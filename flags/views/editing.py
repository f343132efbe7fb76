"""Writes from the flags pages (save, kill switch, delete, create) and the small
read endpoints the panel and the new-flag dialog call while an operator types.

Every write is one audited service call. A refusal is answered with its true status
(400 for a field, 409 for a lost race, 404 for a flag deleted meanwhile) and the
form as the operator left it, the error on the field it names; htmx swaps 4xx
answers like 2xx. Without JavaScript a write redirects (303) to the page it came
from, the list's search and sort kept, and the outcome shows as a message.

A save that would turn tenants on or off in prod is not written at first: the answer
(a 200, since nothing was refused) is the panel showing the diff and who flips
(flags.save_confirmation), with "Save anyway" and "Back to editing".
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.lists import ListState
from console.responder import Notice, confirm_page, is_fragment, redirect_with_notice, respond
from core.errors import ApplicationError, Conflict, NotFound
from core.request_meta import client_ip
from flags import change_requests, schedules, selectors, services
from flags.conflicts import ConflictView, changed_fields, conflict_view
from flags.forms import (
    FlagCreateForm,
    FlagEditForm,
    FlagPreviewForm,
    FlagValuesForm,
    ScopeSearchForm,
)
from flags.models import Flag
from flags.presentation import delete_dialog, flag_row, kill_dialog, preview_context
from flags.save_confirmation import SaveConfirmation, save_confirmation
from flags.views.pages import (
    TEMPLATE,
    flag_url,
    gone_response,
    list_query,
    list_state,
    list_url,
    page_context,
    panel_context,
    results_context,
)
from operators.permissions import operator_required


def add_service_error(form: Form, error: ValidationError | ApplicationError) -> None:
    """Put a service's refusal on the form field it names (or on the form as a whole)."""
    if isinstance(error, ApplicationError):
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return
    if hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error.messages)


def panel_answer(
    request: HttpRequest,
    state: ListState,
    flag: Flag,
    *,
    notice: Notice | None = None,
    status: int = 200,
    save_confirm: SaveConfirmation | None = None,
    **panel: Any,
) -> HttpResponse:
    """The panel after a write (or a refused one, or one waiting for confirmation)
    with the flag's row as it is now, out of band; without htmx, the whole page with
    the panel open."""
    if not is_fragment(request):
        context = page_context(state, flag=flag, **panel)
        context["save_confirm"] = save_confirm
        return respond(request, TEMPLATE, context, notice=notice, status=status)
    context = {
        **panel_context(flag, query=list_query(state), **panel),
        "save_confirm": save_confirm,
        "row": flag_row(flag.key),
        "open_key": flag.key,
    }
    return respond(request, TEMPLATE, context, partial="written", notice=notice, status=status)


def after_write(request: HttpRequest, state: ListState, key: str, notice: Notice) -> HttpResponse:
    if not is_fragment(request):
        return redirect_with_notice(request, flag_url(key, state), notice)
    return panel_answer(request, state, selectors.flag_get(key=key), notice=notice)


# ------------------------------------------------------------------ saving --


@operator_required
@require_POST
def flag_save(request: HttpRequest, key: str) -> HttpResponse:
    form = FlagEditForm(request.POST, auto_id="f-%s")
    base_form = FlagValuesForm(request.POST, prefix="base", auto_id=False)
    state = list_state(request, key)
    try:
        flag = selectors.flag_get(key=key)
    except NotFound:
        return gone_response(request, key)

    def refused(status: int, conflict: ConflictView | None = None) -> HttpResponse:
        return panel_answer(
            request, state, flag, status=status, form=form, base_form=base_form, conflict=conflict
        )

    if not form.is_valid():
        return refused(400)
    if form.cleaned_data["back_to_editing"]:
        # From the confirmation: the form again, as the operator left it.
        return panel_answer(request, state, flag, form=form, base_form=base_form)
    changes = changed_fields(form, base_form)
    try:
        # A save that flips tenants in prod is shown first; "Save anyway" sends back
        # the token of exactly what was shown (other values or versions ask again).
        confirmation = save_confirmation(flag, version=form.version_to_check(), changes=changes)
        if confirmation and not confirmation.accepts(form.cleaned_data["confirm_token"]):
            return panel_answer(
                request, state, flag, form=form, base_form=base_form, save_confirm=confirmation
            )
        # Written now, or (where the approval policy asks) proposed as a change request.
        outcome = change_requests.flag_change(
            key=key,
            expected_version=form.version_to_check(),
            actor=request.user,
            ip=client_ip(request),
            **changes,
        )
    except NotFound:
        return gone_response(request, key)
    except Conflict as error:
        if "current_version" not in error.extra:
            add_service_error(form, error)
            return refused(error.status_code)
        # The panel (and the list row) were as stale as the save: show them as they are.
        flag = selectors.flag_get(key=key)
        submitted = form.cleaned_data["expected_version"]
        return refused(409, conflict=conflict_view(flag, form, base_form, submitted))
    except ApplicationError as error:
        add_service_error(form, error)
        return refused(error.status_code)
    except ValidationError as error:
        add_service_error(form, error)
        return refused(400)
    saved = outcome.flag
    if outcome.change_request is not None:
        proposal = outcome.change_request
        reason = change_requests.requirement_of(proposal).reason
        notice = Notice(
            "success", f"Proposed change request #{proposal.pk} ({reason}); nothing changed yet."
        )
    elif saved.version == flag.version:
        notice = Notice("info", "Nothing to save: the flag already had these values.")
    else:
        notice = Notice("success", f"Saved {key} (version {saved.version}).{waiting(saved)}")
    return after_write(request, state, key, notice)


def waiting(flag: Flag) -> str:
    """After a change by hand: the schedules that now ask whether to go on."""
    asking = [f"#{s.pk}" for s in schedules.live_schedules_of(flag) if schedules.needs_decision(s)]
    if not asking:
        return ""
    noun = "Schedule" if len(asking) == 1 else "Schedules"
    verb = "was" if len(asking) == 1 else "were"
    return (
        f" {noun} {', '.join(asking)} {verb} made before this change: keep or cancel "
        f"{'it' if len(asking) == 1 else 'them'} under Schedules."
    )


# -------------------------------------------------------- kill and delete --


def confirm(request: HttpRequest, key: str, dialog: dict[str, str]) -> HttpResponse:
    """The GET of an action: its dialog as a page, for a click without JavaScript."""
    selectors.flag_get(key=key)  # a flag that is gone is the 404 page
    cancel_url = flag_url(key, list_state(request, key))
    return confirm_page(request, **dialog, cancel_url=cancel_url)


@operator_required
@require_http_methods(["GET", "POST"])
def flag_kill(request: HttpRequest, key: str) -> HttpResponse:
    state = list_state(request, key)
    if request.method == "GET":
        return confirm(request, key, kill_dialog(key, request.get_full_path()))
    before = Flag.objects.filter(key=key).values_list("version", flat=True).first()
    try:
        killed = services.flag_kill(key=key, actor=request.user, ip=client_ip(request))
    except NotFound:
        return gone_response(request, key)
    if killed.version == before:
        notice = Notice("info", f"{key} was already off at 0 %; nothing changed.")
    else:
        notice = Notice("success", f"Killed {key}: off for every tenant.{waiting(killed)}")
    return after_write(request, state, key, notice)


@operator_required
@require_http_methods(["GET", "POST"])
def flag_delete(request: HttpRequest, key: str) -> HttpResponse:
    state = list_state(request)
    if request.method == "GET":
        return confirm(request, key, delete_dialog(key, request.get_full_path()))
    try:
        services.flag_delete(key=key, actor=request.user, ip=client_ip(request))
    except NotFound:
        return gone_response(request, key)
    notice = Notice("success", f"Deleted {key}. The key is retired and can never be used again.")
    if not is_fragment(request):
        return redirect_with_notice(request, list_url(state), notice)
    # The panel empties (it closes) and the list loses the row; the URL is the list's.
    response = respond(request, TEMPLATE, results_context(state), partial="deleted", notice=notice)
    response["HX-Push-Url"] = list_url(state)
    return response


# ---------------------------------------------------------------- creating --


@operator_required
@require_POST
def flag_create(request: HttpRequest) -> HttpResponse:
    form = FlagCreateForm(request.POST, auto_id="new-flag-%s")
    state = list_state(request)
    status = 400
    if form.is_valid():
        try:
            flag = services.flag_create(
                key=form.cleaned_data["key"],
                description=form.cleaned_data["description"],
                actor=request.user,
                ip=client_ip(request),
            )
        except ApplicationError as error:
            add_service_error(form, error)
            status = error.status_code
        except ValidationError as error:
            add_service_error(form, error)
        else:
            return created(request, flag)
    if is_fragment(request):
        context = {"create_form": form, "query": list_query(state)}
        return respond(request, TEMPLATE, context, partial="new_flag_form", status=status)
    context = page_context(state, create_form=form, create_open=True)
    return respond(request, TEMPLATE, context, status=status)


def created(request: HttpRequest, flag: Flag) -> HttpResponse:
    notice = Notice("success", f"Created {flag.key}. It is off; set its rules here.")
    state = list_state(request, flag.key)
    url = flag_url(flag.key, state)
    if not is_fragment(request):
        return redirect_with_notice(request, url, notice)
    context = {
        **results_context(state, open_key=flag.key),
        **panel_context(selectors.flag_get(key=flag.key), query=list_query(state)),
        "create_form": FlagCreateForm(auto_id="new-flag-%s"),
    }
    response = respond(request, TEMPLATE, context, partial="created", notice=notice)
    # The dialog's form asked for itself to be replaced; the new flag's panel goes
    # into the side panel instead (and the list and a fresh dialog out of band).
    response["HX-Retarget"] = "#flag-panel"
    response["HX-Reswap"] = "innerHTML"
    response["HX-Push-Url"] = url
    return response


@operator_required
@require_GET
def key_check(request: HttpRequest) -> HttpResponse:
    key = request.GET.get("key", "")
    errors: list[str] = []
    if key.strip():
        form = FlagCreateForm({"key": key})
        form.is_valid()
        errors = list(form.errors.get("key", []))
    context = {"key": key.strip(), "key_errors": errors, "checked": bool(key.strip())}
    return respond(request, "flags/new_flag.html#key_feedback", context)


# ---------------------------------------------------- preview and options --


@operator_required
@require_GET
def flag_preview(request: HttpRequest, key: str) -> HttpResponse:
    form = FlagPreviewForm(request.GET, auto_id="f-%s")
    if not form.is_valid():
        # What the preview cannot compute names the fields and their errors. It is the
        # answer to a question (who would get this?), not a refused write: a 200.
        return respond(request, "flags/preview.html", {"preview": None, "preview_form": form})
    data = form.cleaned_data
    preview = preview_context(
        key=key,
        state=data["state"],
        pct=data["pct"],
        scope=form.scope(),
        environment=form.environment(),
    )
    return respond(request, "flags/preview.html", {"preview": preview, "preview_form": form})


@operator_required
@require_GET
def scope_options(request: HttpRequest) -> HttpResponse:
    form = ScopeSearchForm(request.GET)
    if not form.is_valid():
        return respond(request, "flags/scope_options.html", {"options": [], "axis": ""})
    axis = form.cleaned_data["axis"]
    search = form.cleaned_data["find"].strip()
    chosen = set(request.GET.getlist(f"scope_{axis}"))
    return respond(
        request,
        "flags/scope_options.html",
        {
            "options": selectors.scope_candidates(axis=axis, search=search, exclude=chosen),
            "axis": axis,
            "q": search,
        },
    )
