"""The notifications page, the bell's count and the drawer's list, and marking read.

The page (`/notifications/`) is where the bell leads without JavaScript, on a phone
and on reload; the drawer loads the same list (`list.html#items`) as a fragment. The
count and the drawer's list are fragments only and are never stored by a browser
(`no-store`); they are never pushed into history, so the page's `Vary` and history
stay those of the page around them.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from console.responder import Notice, is_fragment, redirect_with_notice, respond
from core.errors import NotFound
from notifications import selectors, services
from operators.permissions import operator_required

BIGINT_MAX = 2**63 - 1
CHANGED_EVENT = "notifications-changed"  # HX-Trigger: the bell asks for its count again


def _list_context(request: HttpRequest) -> dict[str, object]:
    return {
        "page": selectors.notification_list(request.user),
        "window_days": selectors.WINDOW.days,
        "empty_text": f"Nothing in the last {selectors.WINDOW.days} days needs you.",
    }


@operator_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    return respond(request, "notifications/list.html", _list_context(request), partial="items")


@operator_required
@require_GET
def notification_drawer(request: HttpRequest) -> HttpResponse:
    # Opened as a URL of its own (never pushed, but typed or reloaded), it is the
    # whole notifications page, like every console URL.
    response = respond(request, "notifications/list.html", _list_context(request), partial="items")
    response["Cache-Control"] = "no-store"
    return response


@operator_required
@require_GET
def notification_count(request: HttpRequest) -> HttpResponse:
    count = selectors.unread_count(request.user)
    label = f"{selectors.COUNT_CAP}+" if count > selectors.COUNT_CAP else str(count)
    response = respond(request, "notifications/count.html", {"count": count, "label": label})
    response["Cache-Control"] = "no-store"
    return response


@operator_required
@require_POST
def notification_read(request: HttpRequest, event_id: int) -> HttpResponse:
    """Mark one notification read and go where it leads (a 303, so Back works)."""
    if event_id > BIGINT_MAX:
        raise NotFound(f"There is no notification {event_id}.", field="event_id")
    notification = selectors.notification_get(request.user, event_id)
    services.notification_mark_read(user=request.user, event_id=event_id)
    response = HttpResponseRedirect(notification.url)
    response.status_code = 303
    return response


@operator_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    """Mark read everything up to `through`, the newest notification the operator was
    shown (without it: everything there is)."""
    raw = request.POST.get("through", "")
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        notice = Notice("danger", "through: give the id of the newest notification shown.")
        return respond(
            request, "notifications/list.html", _list_context(request), partial="items",
            notice=notice, status=400,
        )  # fmt: skip
    services.notifications_mark_all_read(user=request.user, through=int(raw) if raw else None)
    notice = Notice("success", "All notifications are marked read.")
    if not is_fragment(request):
        return redirect_with_notice(request, reverse("notifications:list"), notice)
    response = respond(
        request, "notifications/list.html", _list_context(request), partial="items", notice=notice
    )
    response["HX-Trigger"] = CHANGED_EVENT
    return response
