"""The answer to "why is this flag on (or off) for tenant X?". The panel's small form
asks it by an htmx swap; without JavaScript the same URL is a page of its own
(`/flags/<key>/explain/?tenant=acme&environment=prod`), so it can be linked and
reloaded. A read: nothing is written.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from console.responder import respond
from flags import selectors
from flags.presentation import explain_form_context, flag_reach, reach_environments
from operators.permissions import operator_required

TEMPLATE = "flags/explain.html"


@operator_required
@require_GET
def flag_explain(request: HttpRequest, key: str) -> HttpResponse:
    flag = selectors.flag_get(key=key)  # an unknown flag is the 404 page
    tenant_slug = request.GET.get("tenant", "").strip()[:63]
    environment = request.GET.get("environment", "") or settings.DEZKY_ENVIRONMENT
    context = {
        "flag": flag,
        "reach": flag_reach(flag),
        "reach_environments": reach_environments(),
        "detail_url": reverse("flags:detail", args=[key]),
        **explain_form_context(flag, tenant_slug=tenant_slug, environment=environment),
    }
    # A question with a wrong value in it is answered with its error, named by field:
    # a 400 (htmx swaps it like a 200).
    status = 400 if context["explain_error"] else 200
    return respond(request, TEMPLATE, context, partial="answer", status=status)
