"""The infrastructure page: a card per component, and "Probe now".

"Probe now" is a POST: with htmx the answer is the fresh cards (and a toast saying
what the probes found); without JavaScript, a redirect back to the page with the
same words as a message.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from console.responder import Notice, is_fragment, redirect_with_notice, respond
from core import ratelimit
from monitor import selectors, services
from monitor.models import Component
from operators.permissions import operator_required

PROBES_PER_MINUTE = 6
TEMPLATE = "monitor/infrastructure.html"


def infrastructure_context() -> dict[str, Any]:
    return {
        "cards": selectors.infrastructure_cards(),
        "open_incidents": selectors.incident_counts()["open"],
    }


@operator_required
@require_GET
def infrastructure(request: HttpRequest) -> HttpResponse:
    return respond(request, TEMPLATE, infrastructure_context(), partial="cards")


def _summary(outcomes: list[Any]) -> Notice:
    labels = dict(Component.choices)
    down = [labels[o.component] for o in outcomes if not o.ok]
    if not outcomes:
        return Notice("info", "Nothing is configured to probe.")
    if down:
        return Notice("danger", f"Probed {len(outcomes)} components: {', '.join(down)} down.")
    return Notice("success", f"Probed {len(outcomes)} components: all up.")


@operator_required
@require_POST
def probe_now(request: HttpRequest) -> HttpResponse:
    # A held-down button (or a script) must not turn into a flood of calls upstream.
    if ratelimit.allow(
        f"monitor-probe-now:{request.user.pk}", limit=PROBES_PER_MINUTE, window_seconds=60
    ):
        notice, status = _summary(services.probes_run()), 200
    else:
        notice = Notice(
            "warning",
            f"Probed {PROBES_PER_MINUTE} times in the last minute already; the cards show the "
            "latest results. Try again in a minute.",
        )
        status = 429
    if not is_fragment(request):
        return redirect_with_notice(request, reverse("monitor:infrastructure"), notice)
    return respond(
        request, TEMPLATE, infrastructure_context(), partial="cards", notice=notice, status=status
    )
