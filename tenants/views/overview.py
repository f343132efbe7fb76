"""The console's home: KPIs, the status meter, recent tenants and needs follow-up."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from console.responder import respond
from operators.permissions import operator_required
from tenants import selectors


@operator_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    return respond(request, "tenants/overview.html", {"overview": selectors.overview()})
