"""The console's components, as template tags with their own context.

    {% load console %}
    {% icon "search" %}
    {% badge "Active" tone="success" dot=True %}
    {% status_badge "tenant_status" tenant.status tenant.get_status_display %}
    {% alert "warning" "Billing is not connected." title="Sample data" %}
    {% notice_alert notice %}
    {% page_header "Tenants" subtitle="Every customer." actions="tenants/list.html#actions" %}
    {% search_box state target="#tenant-results" label="Search tenants" %}
    {% list_inputs state %}                 (inside the swapped region)
    {% result_count page "tenant" %}
    {% filter_chips chips label="Status" target="#tenant-results" %}
    {% sort_header state "name" target="#tenant-results" %}
    {% pager page state target="#tenant-results" %}
    {% empty_row 7 "No tenant matches." %}
    {% empty_state "No flags yet" "Create one with New flag." icon="flag" %}
    {% field_errors form.pct "Rollout %" %}    (id "f-pct-errors" for aria-describedby)
    {% form_field form.email help="Stored in lower case." testid="invite-email" %}
    {% copy_field "invite-link" "Recovery link" result.link %}
    {% confirm_dialog id="suspend" title=... text=... confirm="Suspend" url=... %}

Tones come from `console.tones`; nothing here knows a page.
"""

from __future__ import annotations

import functools
from typing import Any

from django import forms, template
from django.core.paginator import Page
from django.templatetags.static import static
from django.utils.html import format_html

from console import tones
from console.lists import Chip, ListState

register = template.Library()


@functools.cache
def _sprite_url() -> str:
    # A page draws dozens of icons; resolving the static URL for each one cost about
    # 3 ms a page. It cannot change while the process runs (collectstatic restarts it).
    return static("dezky/icons/lucide.svg")


@register.simple_tag
def icon(name: str, css: str = "") -> str:
    """An icon from the vendored Lucide sprite; decorative (the text beside it speaks)."""
    return format_html(
        '<svg class="icon{}" aria-hidden="true" focusable="false"><use href="{}#i-{}"/></svg>',
        f" {css}" if css else "",
        _sprite_url(),
        name,
    )


@register.filter
def tone(value: Any, kind: str) -> str:
    """`tenant.status|tone:"tenant_status"` -> "warning"."""
    return tones.tone_for(kind, value)


@register.inclusion_tag("components/badge.html")
def badge(
    text: Any, tone: str = "neutral", dot: bool = False, icon: str = "", testid: str = ""
) -> dict[str, Any]:
    return {"text": text, "tone": tone, "dot": dot, "icon": icon, "testid": testid}


@register.inclusion_tag("components/badge.html")
def status_badge(kind: str, value: Any, text: Any, testid: str = "") -> dict[str, Any]:
    """A status as a dotted badge in its registered tone."""
    return {"text": text, "tone": tones.tone_for(kind, value), "dot": True, "testid": testid}


@register.inclusion_tag("components/alert.html")
def alert(
    tone: str, text: Any = "", title: str = "", testid: str = "", focus: bool = False
) -> dict[str, Any]:
    return {
        "tone": tone,
        "text": text,
        "title": title,
        "testid": testid,
        "focus": focus,
        "icon": tones.icon_for(tone),
        "urgent": tones.is_urgent(tone),
    }


@register.inclusion_tag("components/alert.html")
def notice_alert(notice: Any, testid: str = "notice") -> dict[str, Any]:
    """An action's outcome in the content it re-rendered. It takes focus after the
    swap, since the button that sent the action may be gone."""
    if not notice:
        return {"tone": ""}
    return alert(notice.tone, notice.text, testid=testid, focus=True)


@register.inclusion_tag("components/page_header.html", takes_context=True)
def page_header(
    context: template.Context,
    title: Any,
    subtitle: Any = "",
    eyebrow: Any = "",
    sample: bool = False,
    actions: str = "",
    mono_eyebrow: bool = False,
) -> dict[str, Any]:
    """`actions` is a template (a partial) of the page's buttons; it sees the page's
    context (their URLs, the CSRF token), under the header's own names."""
    return {
        **(context.flatten() if actions else {}),
        "title": title,
        "subtitle": subtitle,
        "eyebrow": eyebrow,
        "sample": sample,
        "actions": actions,
        "mono_eyebrow": mono_eyebrow,
    }


@register.inclusion_tag("components/sample_label.html")
def sample_label(tooltip: str = "") -> dict[str, Any]:
    return {"tooltip": tooltip}


@register.inclusion_tag("components/field_errors.html")
def field_errors(field: Any, label: Any = "", id: str = "") -> dict[str, Any]:
    """A form field's errors, each naming the field. `field` is a bound field (the id is
    then "<its auto_id>-errors", for the input's aria-describedby) or a list of errors
    with an explicit `id`; `label` defaults to the field's own."""
    errors = getattr(field, "errors", field) or []
    auto_id = getattr(field, "auto_id", "")
    return {
        "errors": list(errors),
        "label": label or getattr(field, "label", ""),
        "id": id or (f"{auto_id}-errors" if auto_id else "field-errors"),
    }


@register.inclusion_tag("components/form_field.html")
def form_field(
    field: Any,
    label: Any = "",
    help: Any = "",
    type: str = "",
    placeholder: str = "",
    autofocus: bool | str = False,
    autocomplete: str = "",
    spellcheck: str = "",
    rows: int = 3,
    testid: str = "",
) -> dict[str, Any]:
    """One form field: its label, its control, its help and its errors (each naming the
    field). The control carries aria-invalid when the field has errors and
    aria-describedby pointing at "<id>-help" and "<id>-errors".

    `field` is a bound field; its id (auto_id), name, value, required, maxlength and
    min/max come from it. The control follows its widget: a select (choices), a
    textarea, a group of checkboxes (a fieldset; CheckboxSelectMultiple), else an
    input of the widget's type (`type` overrides it). `autofocus`: True, or "clean"
    for only while the form has no errors (htmx focuses an [autofocus] of swapped
    content, which would win over the first invalid field)."""
    form_field_ = field.field
    widget = form_field_.widget
    id = field.auto_id or field.html_name
    errors = list(field.errors)
    help = help or form_field_.help_text
    value = field.value()
    if isinstance(widget, forms.CheckboxSelectMultiple):
        kind = "checkboxes"
    elif isinstance(widget, forms.Select):
        kind = "select"
    elif isinstance(widget, forms.Textarea):
        kind = "textarea"
    else:
        kind = "input"
    input_type = type or getattr(widget, "input_type", "text")
    if kind == "select" and value in (None, ""):
        value = form_field_.initial  # a select always shows a choice: the field's default
    if kind in ("select", "checkboxes"):
        chosen = {str(v) for v in (value if isinstance(value, list | tuple) else [value])}
        choices = [(str(v), text, str(v) in chosen) for v, text in form_field_.choices]
    else:
        choices = []
    described = [f"{id}-help"] if help else []
    if errors:
        described.append(f"{id}-errors")
    if autofocus == "clean":
        autofocus = not field.form.errors
    return {
        "field": field,
        "kind": kind,
        "id": id,
        "name": field.html_name,
        "label": label or field.label,
        "help": help,
        "help_id": f"{id}-help",
        "errors_id": f"{id}-errors",
        "errors": errors,
        "describedby": " ".join(described),
        "value": "" if value is None or kind == "checkboxes" else value,
        "choices": choices,
        "multiple": isinstance(widget, forms.SelectMultiple),
        "type": input_type,
        "required": form_field_.required and kind != "checkboxes",
        "maxlength": getattr(form_field_, "max_length", None),
        "min": getattr(form_field_, "min_value", None),
        "max": getattr(form_field_, "max_value", None),
        "numeric": input_type == "number",
        "placeholder": placeholder,
        "autofocus": bool(autofocus),
        "autocomplete": autocomplete,
        "spellcheck": spellcheck,
        "rows": rows,
        "testid": testid,
    }


# ------------------------------------------------------------------- lists --


@register.inclusion_tag("components/search_box.html")
def search_box(
    state: ListState,
    target: str,
    label: str,
    placeholder: str = "Search",
    testid: str = "search",
    id: str = "list-search",
) -> dict[str, Any]:
    """The list's search: filters as you type (debounced), pushes the URL; without
    JavaScript it is a plain GET form. The region's `{% list_inputs %}` send the
    current filters and sort along (form=...), so a search keeps them."""
    return {
        "state": state,
        "target": target,
        "label": label,
        "placeholder": placeholder,
        "testid": testid,
        "id": id,
        "form_id": f"{id}-form",
        "max_length": 100,
    }


@register.inclusion_tag("components/list_inputs.html")
def list_inputs(
    state: ListState, form_id: str = "list-search-form", exclude: str = "", search: bool = False
) -> dict[str, Any]:
    """The list's state as hidden inputs of the form `form_id`. A form of filters beside
    the search box names the fields it has itself in `exclude` (space-separated) and
    takes the search along (`search=True`)."""
    params = state.params()
    if not search:
        params.pop("q", None)
    params.pop("page", None)
    for name in exclude.split():
        params.pop(name, None)
    return {"params": params, "form_id": form_id}


@register.inclusion_tag("components/result_count.html")
def result_count(page: Page, noun: str, plural: str = "", testid: str = "result-count") -> dict:
    """The one live region of a list: a screen reader hears the count after every swap,
    never the table."""
    count = page.paginator.count
    return {
        "count": count,
        "noun": noun if count == 1 else (plural or f"{noun}s"),
        "page": page,
        "testid": testid,
    }


@register.inclusion_tag("components/filter_chips.html")
def filter_chips(
    chips: list[Chip], label: str, target: str, testid: str = "chips"
) -> dict[str, Any]:
    return {"chips": chips, "label": label, "target": target, "testid": testid}


@register.inclusion_tag("components/sort_header.html")
def sort_header(
    state: ListState, key: str, target: str, num: bool = False, label: str = ""
) -> dict[str, Any]:
    sort = state.spec.sort(key)
    current = state.sort_key == key
    return {
        "label": label or (sort.label if sort else key),
        "url": state.sort_url(key),
        "target": target,
        "num": num,
        "current": current,
        "aria_sort": ("descending" if state.descending else "ascending") if current else "",
        "key": key,
    }


@register.inclusion_tag("components/pager.html")
def pager(page: Page, state: ListState, target: str, testid: str = "pager") -> dict[str, Any]:
    return {
        "page": page,
        "target": target,
        "testid": testid,
        "previous_url": state.url(page=page.previous_page_number()) if page.has_previous() else "",
        "next_url": state.url(page=page.next_page_number()) if page.has_next() else "",
    }


@register.inclusion_tag("components/back_link.html")
def back_link(url: str, label: str) -> dict[str, Any]:
    """The "← Parent" link above a detail page's header."""
    return {"url": url, "label": label}


@register.inclusion_tag("components/keyset_pager.html")
def keyset_pager(
    pager: Any,
    target: str,
    swap: str = "",
    testid: str = "keyset-pager",
    label: str = "Older and newer entries",
) -> dict[str, Any]:
    """Newest / Newer / Older for a list paged by a cursor; `pager` has newest_url,
    newer_url and older_url (empty when there is no such page)."""
    return {"pager": pager, "target": target, "swap": swap, "testid": testid, "label": label}


@register.inclusion_tag("components/empty_row.html")
def empty_row(colspan: int, text: Any, testid: str = "empty") -> dict[str, Any]:
    return {"colspan": colspan, "text": text, "testid": testid}


@register.inclusion_tag("components/empty_state.html")
def empty_state(title: Any, text: Any = "", icon: str = "inbox", testid: str = "") -> dict:
    return {"title": title, "text": text, "icon": icon, "testid": testid}


# ------------------------------------------------------------ interaction --


@register.inclusion_tag("components/copy_field.html")
def copy_field(
    id: str,
    label: str,
    value: Any,
    testid: str = "",
    autofocus: bool = False,
) -> dict[str, Any]:
    """A read-only value with a Copy button (shell.js copies and announces it)."""
    return {"id": id, "label": label, "value": value, "testid": testid, "autofocus": autofocus}


@register.inclusion_tag("components/confirm_dialog.html", takes_context=True)
def confirm_dialog(
    context: template.Context,
    *,
    id: str,
    title: Any,
    text: Any,
    confirm: str,
    url: str,
    target: str,
    tone: str = "danger",
    icon: str = "triangle-alert",
    note: Any = "",
    testid: str = "",
    include: str = "",
    swap: str = "",
    field: Any = None,
) -> dict[str, Any]:
    """A confirmation whose confirm button posts with htmx. The button that opens it
    is `{% confirm_button %}`: a link to `url` (a confirm page that works without
    JavaScript) that shell.js turns into opening this dialog. `field` (a
    console.responder.ConfirmField) is a text it asks for, such as a reason."""
    return {
        "csrf_token": context.get("csrf_token"),
        "id": id,
        "title": title,
        "text": text,
        "confirm": confirm,
        "url": url,
        "target": target,
        "tone": tone,
        "icon": icon,
        "note": note,
        "testid": testid or id,
        "include": include,
        "swap": swap,
        "field": field or None,
    }


@register.filter
def tone_icon(tone: str) -> str:
    return tones.icon_for(tone)


@register.inclusion_tag("components/confirm_button.html")
def confirm_button(
    *,
    dialog: str,
    url: str,
    label: str,
    tone: str = "secondary",
    icon: str = "",
    testid: str = "",
    disabled_reason: str = "",
) -> dict[str, Any]:
    """What opens a {% confirm_dialog %}: a link to the action's confirm page (so it
    works without JavaScript) that shell.js opens as the dialog. When the action does
    not apply, a disabled button with the reason in visible text beside it."""
    return {
        "dialog": dialog,
        "url": url,
        "label": label,
        "tone": tone,
        "icon": icon,
        "testid": testid or dialog,
        "disabled_reason": disabled_reason,
    }
