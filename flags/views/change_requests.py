"""Change requests: the list (state, flag, mine / waiting for me), the approval policy
beside it, and a request's page with its diff, approvals and actions.

Every action is one audited service call. With htmx an action answers the request's
detail region (`#cr-detail`) with its true status and a toast; without JavaScript it
redirects (303) to the request's page with a message. A refusal (your own request,
too few approvals, a newer flag) is a 403/409 with the service's sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.text import capfirst
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.lists import Filter, ListSpec, ListState
from console.responder import (
    ConfirmField,
    Notice,
    confirm_page,
    is_fragment,
    redirect_with_notice,
    respond,
)
from core.errors import ApplicationError, Conflict
from core.request_meta import client_ip
from flags import change_requests as cr
from flags import policy
from flags.forms import FIELD_LABELS, FlagValuesForm, SlugListField
from flags.models import MAX_APPROVALS, ChangeRequestState, FlagChangeRequest
from flags.presentation import display_value
from flags.views.editing import add_service_error
from operators.permissions import operator_required

SLUG_SEPARATORS = re.compile(r"[\s,]+")
LIST_TEMPLATE = "flags/change_requests.html"
DETAIL_TEMPLATE = "flags/change_request.html"
STATE_CHOICES = (("", "All"), *ChangeRequestState.choices)
STATE_TONES: dict[str, str] = {
    ChangeRequestState.OPEN: "warning",
    ChangeRequestState.APPROVED: "success",
    ChangeRequestState.REJECTED: "danger",
    ChangeRequestState.APPLIED: "info",
    ChangeRequestState.WITHDRAWN: "neutral",
}
CHANGE_REQUEST_LIST = ListSpec(
    filters=(
        Filter("state", "State", STATE_CHOICES),
        Filter("who", "Whose", cr.WHO_CHOICES),
        Filter("flag", "Flag"),
    ),
    page_size=25,
)


class PolicyForm(forms.Form):
    """One number per environment; the field names the environment on an error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for env in settings.ENVIRONMENTS:
            self.fields[env] = forms.IntegerField(
                label=env,
                min_value=0,
                max_value=MAX_APPROVALS,
                error_messages={
                    "required": f"give a number of approvals (0 to {MAX_APPROVALS})",
                    "invalid": f"a whole number from 0 to {MAX_APPROVALS}",
                    "min_value": f"from 0 to {MAX_APPROVALS}",
                    "max_value": f"from 0 to {MAX_APPROVALS}",
                },
            )


class SlugTextField(SlugListField):
    """Slugs typed into one text input, separated by commas or spaces."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, str):
            value = SLUG_SEPARATORS.split(value)
        return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list | tuple) else value


class EditForm(FlagValuesForm):
    """Everything a flag change can carry, and the request's title. Prefilled with
    the request's proposed values, falling back to the flag's current ones."""

    title = forms.CharField(label="Title", max_length=200, required=False)
    scope_tenant_slugs = SlugTextField(
        label="Tenants", help_text="Tenant slugs, separated by commas or spaces."
    )
    scope_partner_slugs = SlugTextField(
        label="Partners", help_text="Partner slugs, separated by commas or spaces."
    )
    field_order = ["title", "description", "state", "pct"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "cr-edit-%s")
        super().__init__(*args, **kwargs)
        for name in ("scope_plans", "scope_environments"):
            field = cast(forms.MultipleChoiceField, self.fields[name])
            field.widget = forms.CheckboxSelectMultiple()
            field.choices = field.choices  # hands the choices to the new widget too
        self.fields["scope_plans"].help_text = "None ticked: every plan."
        self.fields["scope_environments"].help_text = "None ticked: every environment."

    @classmethod
    def for_request(cls, found: FlagChangeRequest) -> EditForm:
        proposed = {field: change["after"] for field, change in found.changes.items()}
        initial = {**FlagValuesForm.initial_from(found.flag), **proposed, "title": found.title}
        return cls(initial=initial)


# ------------------------------------------------------------------- list --


@operator_required
@require_GET
def change_request_list(request: HttpRequest) -> HttpResponse:
    state = ListState.from_request(request, CHANGE_REQUEST_LIST)
    return respond(
        request,
        LIST_TEMPLATE,
        list_context(request, state, PolicyForm(initial=_policy())),
        partial="results",
    )


def list_context(request: HttpRequest, state: ListState, policy_form: PolicyForm) -> dict:
    found = cr.change_request_list(
        viewer=request.user,
        state=state.filter("state"),
        flag_key=state.filter("flag"),
        who=state.filter("who"),
        search=state.q,
    )
    page = state.paginate(found)
    return {
        "state": state,
        "page": page,
        "rows": [row(r) for r in page.object_list],
        "state_chips": state.chips("state", STATE_CHOICES),
        "who_chips": state.chips("who", cr.WHO_CHOICES),
        "flag_filter": state.filter("flag"),
        "clear_flag_url": state.url(flag=""),
        "policy_form": policy_form,
        "policy_rows": [(env, policy_form[env]) for env in settings.ENVIRONMENTS],
        "empty_text": "No change request matches." if state.narrowed else "No change requests yet.",
    }


@operator_required
@require_POST
def policy_save(request: HttpRequest) -> HttpResponse:
    form = PolicyForm(request.POST, auto_id="policy-%s")
    state = ListState.from_request(request, CHANGE_REQUEST_LIST)
    list_url = reverse("flags:change_requests")
    if not form.is_valid():
        context = list_context(request, state, form)
        return respond(request, LIST_TEMPLATE, context, partial="policy", status=400)
    changed = [
        env
        for env in settings.ENVIRONMENTS
        if cr.approval_policy_set(
            environment=env,
            approvals_required=form.cleaned_data[env],
            actor=request.user,
            ip=client_ip(request),
        )
    ]
    if changed:
        notice = Notice("success", f"Approval policy saved ({', '.join(changed)} changed).")
    else:
        notice = Notice("info", "Nothing to save: the policy already was this.")
    if not is_fragment(request):
        return redirect_with_notice(request, list_url, notice)
    context = list_context(request, state, PolicyForm(initial=_policy(), auto_id="policy-%s"))
    return respond(
        request, LIST_TEMPLATE, {**context, "policy_saved": True}, partial="policy", notice=notice
    )


def row(found: FlagChangeRequest) -> dict[str, Any]:
    needs = cr.requirement_of(found)
    return {
        "cr": found,
        "url": reverse("flags:change_request", kwargs={"request_id": found.pk}),
        "approvals": len(found.approvals.all()),
        "required": needs.approvals,
        "fields": ", ".join(FIELD_LABELS.get(f, f) for f in found.changes),
        "tone": STATE_TONES[found.state],
    }


def _policy() -> dict[str, int]:
    return policy.approvals_by_environment()


# ----------------------------------------------------------------- detail --


@operator_required
@require_GET
def change_request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    found = cr.change_request_get(request_id)
    context = detail_context(request, found, edit_open=request.GET.get("edit") == "1")
    return respond(request, DETAIL_TEMPLATE, context, partial="detail")


def detail_context(
    request: HttpRequest,
    found: FlagChangeRequest,
    *,
    edit_form: EditForm | None = None,
    edit_open: bool = False,
    conflict: Any = None,
    error: str = "",
) -> dict[str, Any]:
    needs = cr.requirement_of(found)
    approvals = list(found.approvals.all())
    is_author = found.author_id == request.user.pk
    approved_by_me = any(a.approver_id == request.user.pk for a in approvals)
    live = found.is_live
    url = reverse("flags:change_request", kwargs={"request_id": found.pk})
    if edit_form is None:
        edit_form = EditForm.for_request(found)
    return {
        "cr": found,
        "tone": STATE_TONES[found.state],
        "flag": found.flag,
        "url": url,
        "diff": [
            {
                "label": FIELD_LABELS.get(field, field),
                "before": display_value(field, change["before"]),
                "after": display_value(field, change["after"]),
            }
            for field, change in found.changes.items()
        ],
        "approvals": approvals,
        "needs": needs,
        "enough": len(approvals) >= needs.approvals,
        "stale": live and found.flag.version != found.base_version,
        "live": live,
        "is_author": is_author,
        "approve_reason": _approve_reason(live, is_author, approved_by_me),
        "apply_reason": _apply_reason(found, live, len(approvals), needs),
        "edit_form": edit_form,
        "edit_open": edit_open or edit_form.is_bound,
        "dialogs": {name: _dialog(found, name) for name in ACTIONS},
        "conflict": conflict,
        "error": error,
    }


def _approve_reason(live: bool, is_author: bool, approved_by_me: bool) -> str:
    if not live:
        return "The request is closed."
    if is_author:
        return "You wrote it; another operator approves it."
    if approved_by_me:
        return "You have approved it."
    return ""


def _apply_reason(found: FlagChangeRequest, live: bool, count: int, needs: Any) -> str:
    if not live:
        return "The request is closed."
    if count < needs.approvals:
        return f"{capfirst(needs.reason)}; it has {count}."
    if found.flag.version != found.base_version:
        return "The flag changed since; edit the request to base it on the new version."
    return ""


# ---------------------------------------------------------------- actions --

# Why a reviewer rejects, asked in the Reject dialog (and its confirm page); the API
# takes the same limit.
REJECT_REASON = ConfirmField(
    name="reason",
    label="Reason (optional)",
    max_length=500,
    help="Shown on the request's page and kept in the audit log.",
)

ACTIONS: dict[str, dict[str, Any]] = {
    "approve": {
        "title": "Approve this change?",
        "text": "Your approval counts towards the policy; anyone may then apply it.",
        "confirm": "Approve",
        "tone": "primary",
        "icon": "check",
    },
    "reject": {
        "title": "Reject this change request?",
        "text": "It closes for good; the flag is not changed. The author can propose again.",
        "confirm": "Reject",
        "tone": "danger",
        "icon": "x",
        "field": REJECT_REASON,
    },
    "apply": {
        "title": "Apply this change now?",
        "text": "The flag is changed at once for every service that reads it.",
        "confirm": "Apply",
        "tone": "primary",
        "icon": "zap",
    },
    "withdraw": {
        "title": "Withdraw this change request?",
        "text": "It closes for good; the flag is not changed.",
        "confirm": "Withdraw",
        "tone": "danger",
        "icon": "circle-x",
    },
}

DONE = {
    "approve": "Approved change request #{pk}.",
    "reject": "Rejected change request #{pk}.",
    "apply": "Applied change request #{pk}: {key} is now version {version}.",
    "withdraw": "Withdrew change request #{pk}.",
}

SERVICES: dict[str, Callable[..., FlagChangeRequest]] = {
    "approve": cr.change_request_approve,
    "reject": cr.change_request_reject,
    "apply": cr.change_request_apply,
    "withdraw": cr.change_request_withdraw,
}


def _dialog(found: FlagChangeRequest, name: str) -> dict[str, Any]:
    spec = ACTIONS[name]
    return {
        "id": f"cr-{name}-dialog",
        "url": reverse(f"flags:change_request_{name}", kwargs={"request_id": found.pk}),
        **spec,
    }


def _action(name: str) -> Callable[[HttpRequest, int], HttpResponse]:
    @operator_required
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, request_id: int) -> HttpResponse:
        found = cr.change_request_get(request_id)
        url = reverse("flags:change_request", kwargs={"request_id": found.pk})
        if request.method == "GET":
            return confirm_page(request, **_dialog(found, name), cancel_url=url)
        extra: dict[str, str] = {}
        if name == "reject":
            # Browsers send a line break as \r\n but count it as one character.
            reason = request.POST.get("reason", "").replace("\r\n", "\n")
            too_long = _too_long(reason, REJECT_REASON.max_length)
            if too_long and is_fragment(request):
                return refused(request, found.pk, ApplicationError(f"Reason: {too_long}"), 400)
            if too_long:
                dialog = {**_dialog(found, name), "field": REJECT_REASON.refill(reason, too_long)}
                return confirm_page(request, **dialog, cancel_url=url, status=400)
            extra["reason"] = reason
        try:
            done = SERVICES[name](
                request_id=found.pk, actor=request.user, ip=client_ip(request), **extra
            )
        except ApplicationError as error:
            return refused(request, found.pk, error)
        text = DONE[name].format(pk=done.pk, key=done.flag.key, version=done.applied_version)
        return answer(request, done.pk, Notice("success", text))

    view.__name__ = f"change_request_{name}"
    return view


approve = _action("approve")
reject = _action("reject")
apply = _action("apply")
withdraw = _action("withdraw")


@operator_required
@require_POST
def edit(request: HttpRequest, request_id: int) -> HttpResponse:
    found = cr.change_request_get(request_id)
    form = EditForm(request.POST)
    if not form.is_valid():
        context = detail_context(request, found, edit_form=form)
        return respond(request, DETAIL_TEMPLATE, context, partial="detail", status=400)
    had_approvals = found.approvals.exists()
    try:
        cr.change_request_edit(
            request_id=found.pk,
            actor=request.user,
            ip=client_ip(request),
            title=form.cleaned_data["title"],
            **form.service_kwargs(),
        )
    except (ApplicationError, ValidationError) as error:
        add_service_error(form, error)
        status = error.status_code if isinstance(error, ApplicationError) else 400
        context = detail_context(request, found, edit_form=form)
        return respond(request, DETAIL_TEMPLATE, context, partial="detail", status=status)
    dropped = "; every approval was dropped" if had_approvals else ""
    return answer(
        request, found.pk, Notice("success", f"Edited change request #{found.pk}{dropped}.")
    )


def answer(request: HttpRequest, request_id: int, notice: Notice) -> HttpResponse:
    url = reverse("flags:change_request", kwargs={"request_id": request_id})
    if not is_fragment(request):
        return redirect_with_notice(request, url, notice)
    context = detail_context(request, cr.change_request_get(request_id))
    return respond(request, DETAIL_TEMPLATE, context, partial="detail", notice=notice)


def _too_long(text: str, limit: int) -> str:
    length = len(text.strip())
    return f"at most {limit} characters (this has {length})." if length > limit else ""


def refused(
    request: HttpRequest, request_id: int, error: ApplicationError, status: int | None = None
) -> HttpResponse:
    """The request's page with the refusal above the actions, in its true status."""
    found = cr.change_request_get(request_id)
    conflict = None
    if isinstance(error, Conflict) and "current_version" in error.extra:
        conflict = stale_view(found)
    context = detail_context(request, found, conflict=conflict, error=error.message)
    status = status or error.status_code
    if not is_fragment(request):
        return respond(request, DETAIL_TEMPLATE, context, status=status)
    return respond(request, DETAIL_TEMPLATE, context, partial="detail", status=status)


def stale_view(found: FlagChangeRequest) -> Any:
    """The stale-save view of flags/conflicts.py for a request based on an older
    version: what the request changes, against what others changed since."""
    from flags.conflicts import conflict_view
    from flags.forms import FlagEditForm, FlagValuesForm

    flag = found.flag
    before = {f: c["before"] for f, c in found.changes.items()}
    after = {f: c["after"] for f, c in found.changes.items()}
    current = FlagValuesForm.initial_from(flag)
    base = {**current, **before}
    yours = {**current, **after}
    form = FlagEditForm(data={**yours, "expected_version": found.base_version})
    base_form = FlagValuesForm(data={f"base-{f}": v for f, v in base.items()}, prefix="base")
    if not form.is_valid():
        return None
    return conflict_view(flag, form, base_form, found.base_version)
