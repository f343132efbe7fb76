"""The console's home: KPIs, the status meter, recent tenants and needs follow-up."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from operators.permissions import operator_required
from tenants import selectors


@operator_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/overview.html", {"overview": selectors.overview()})
