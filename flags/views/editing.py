"""Writes from the flags pages (save, kill switch, delete, create) and the small
read endpoints the panel and the new-flag dialog call while an operator types.

Every write is one audited service call; a refusal from the service becomes a
message on the field it names, never a 500.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from console.lists import search_term
from console.responder import is_fragment
from core.errors import ApplicationError, Conflict, NotFound
from core.request_meta import client_ip
from flags import selectors, services
from flags.conflicts import ConflictView, changed_fields, conflict_view
from flags.forms import (
    FlagCreateForm,
    FlagEditForm,
    FlagPreviewForm,
    FlagValuesForm,
    ScopeSearchForm,
)
from flags.models import Flag
from flags.presentation import flag_row, flag_rows, preview_context
from flags.views.pages import gone_response, list_context, panel_context
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


def _page_or_fragment(
    request: HttpRequest, template: str, context: dict[str, Any], **headers: str
) -> HttpResponse:
    """The panel after a write; without htmx the whole page with the panel open."""
    if is_fragment(request):
        response = render(request, template, context)
        for name, value in headers.items():
            response[name.replace("_", "-")] = value
        return response
    search = search_term(request.POST)
    rows = flag_rows(search=search)
    return render(request, "flags/list.html", {**list_context(search=search, rows=rows), **context})


def _after_write(request: HttpRequest, key: str, text: str, tone: str = "success") -> HttpResponse:
    if not is_fragment(request):
        messages.add_message(
            request, messages.SUCCESS if tone == "success" else messages.INFO, text
        )
        return redirect("flags:detail", key=key)
    context = panel_context(selectors.flag_get(key=key))
    return render(
        request,
        "flags/written.html",
        {**context, "row": flag_row(key), "toast": text, "toast_tone": tone},
    )


# ------------------------------------------------------------------ saving --


@operator_required
@require_POST
def flag_save(request: HttpRequest, key: str) -> HttpResponse:
    form = FlagEditForm(request.POST, auto_id="f-%s")
    base_form = FlagValuesForm(request.POST, prefix="base", auto_id=False)
    try:
        flag = selectors.flag_get(key=key)
    except NotFound:
        return gone_response(request, key)

    def panel(conflict: ConflictView | None = None) -> HttpResponse:
        context = panel_context(flag, form=form, base_form=base_form, conflict=conflict)
        if conflict is None:
            return _page_or_fragment(request, "flags/panel.html", context)
        # The list row is as stale as the panel was; bring it up to date too.
        return _page_or_fragment(request, "flags/written.html", {**context, "row": flag_row(key)})

    if not form.is_valid():
        return panel()
    try:
        saved = services.flag_update(
            key=key,
            expected_version=form.version_to_check(),
            actor=request.user,
            ip=client_ip(request),
            **changed_fields(form, base_form),
        )
    except NotFound:
        return gone_response(request, key)
    except Conflict as error:
        if "current_version" not in error.extra:
            add_service_error(form, error)
            return panel()
        flag = selectors.flag_get(key=key)
        submitted = form.cleaned_data["expected_version"]
        return panel(conflict=conflict_view(flag, form, base_form, submitted))
    except (ValidationError, ApplicationError) as error:
        add_service_error(form, error)
        return panel()
    if saved.version == flag.version:
        return _after_write(
            request, key, "Nothing to save: the flag already had these values.", "info"
        )
    return _after_write(request, key, f"Saved {key} (version {saved.version}).")


# -------------------------------------------------------- kill and delete --


@operator_required
@require_POST
def flag_kill(request: HttpRequest, key: str) -> HttpResponse:
    before = Flag.objects.filter(key=key).values_list("version", flat=True).first()
    try:
        killed = services.flag_kill(key=key, actor=request.user, ip=client_ip(request))
    except NotFound:
        return gone_response(request, key)
    if killed.version == before:
        return _after_write(request, key, f"{key} was already off at 0 %; nothing changed.", "info")
    return _after_write(request, key, f"Killed {key}: off for every tenant.")


@operator_required
@require_POST
def flag_delete(request: HttpRequest, key: str) -> HttpResponse:
    try:
        services.flag_delete(key=key, actor=request.user, ip=client_ip(request))
    except NotFound:
        return gone_response(request, key)
    text = f"Deleted {key}. The key is retired and can never be used again."
    if not is_fragment(request):
        messages.success(request, text)
        return redirect("flags:list")
    search = search_term(request.POST)
    context = {"key": key, "toast": text, "search": search, "rows": flag_rows(search=search)}
    response = render(request, "flags/deleted.html", context)
    response["HX-Push-Url"] = reverse("flags:list")
    return response


# ---------------------------------------------------------------- creating --


@operator_required
@require_POST
def flag_create(request: HttpRequest) -> HttpResponse:
    form = FlagCreateForm(request.POST, auto_id="new-flag-%s")
    search = search_term(request.POST)
    if form.is_valid():
        try:
            flag = services.flag_create(
                key=form.cleaned_data["key"],
                description=form.cleaned_data["description"],
                actor=request.user,
                ip=client_ip(request),
            )
        except (ValidationError, ApplicationError) as error:
            add_service_error(form, error)
        else:
            text = f"Created {flag.key}. It is off; set its rules here."
            if not is_fragment(request):
                messages.success(request, text)
                return redirect("flags:detail", key=flag.key)
            context = {
                **panel_context(selectors.flag_get(key=flag.key)),
                **list_context(search=search, rows=flag_rows(search=search)),
                "toast": text,
                "toast_tone": "success",
            }
            response = render(request, "flags/created.html", context)
            # The dialog's form asked for itself to be replaced; the new flag's panel
            # goes into the side panel instead.
            response["HX-Retarget"] = "#flag-panel"
            response["HX-Reswap"] = "innerHTML"
            response["HX-Push-Url"] = reverse("flags:detail", kwargs={"key": flag.key})
            return response
    if is_fragment(request):
        return render(request, "flags/new_flag.html#form", {"create_form": form})
    context = list_context(search=search, rows=flag_rows(search=search))
    return render(request, "flags/list.html", {**context, "create_form": form, "create_open": True})


@operator_required
@require_GET
def key_check(request: HttpRequest) -> HttpResponse:
    key = request.GET.get("key", "")
    errors: list[str] = []
    if key.strip():
        form = FlagCreateForm({"key": key})
        form.is_valid()
        errors = list(form.errors.get("key", []))
    return render(
        request,
        "flags/new_flag.html#key_feedback",
        {"key": key.strip(), "key_errors": errors, "checked": bool(key.strip())},
    )


# ---------------------------------------------------- preview and options --


@operator_required
@require_GET
def flag_preview(request: HttpRequest, key: str) -> HttpResponse:
    form = FlagPreviewForm(request.GET)
    if not form.is_valid():
        return render(request, "flags/preview.html", {"preview": None, "preview_form": form})
    data = form.cleaned_data
    preview = preview_context(
        key=key,
        state=data["state"],
        pct=data["pct"],
        scope=form.scope(),
        environment=form.environment(),
    )
    return render(request, "flags/preview.html", {"preview": preview, "preview_form": form})


@operator_required
@require_GET
def scope_options(request: HttpRequest) -> HttpResponse:
    form = ScopeSearchForm(request.GET)
    if not form.is_valid():
        return render(request, "flags/scope_options.html", {"options": [], "axis": ""})
    axis = form.cleaned_data["axis"]
    search = form.cleaned_data["find"].strip()
    chosen = set(request.GET.getlist(f"scope_{axis}"))
    return render(
        request,
        "flags/scope_options.html",
        {
            "options": selectors.scope_candidates(axis=axis, search=search, exclude=chosen),
            "axis": axis,
            "q": search,
        },
    )
