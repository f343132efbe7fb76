"""The export of the audit page's current filter, as CSV or JSON Lines.

The export is recorded (`audit.exported`, with its format and filters) in its own
transaction before the first byte goes out, so a download that is cut off is still
on the record. The body is streamed from keyset chunks (constant memory at a million
events); `X-Audit-Export-Rows` says how many rows are coming, for the page's progress
bar (static/dezky/js/audit.js).
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from audit import export, selectors
from audit import services as audit
from audit.forms import AuditFilterForm
from audit.views.log import list_context
from console.responder import respond
from core.request_meta import client_ip
from operators.permissions import operator_required

ROWS_HEADER = "X-Audit-Export-Rows"


def _export(request: HttpRequest, export_format: str) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        context = list_context(request, form)
        return respond(request, "audit/list.html", context, status=400)
    filters = form.filters()
    with transaction.atomic():
        audit.record(
            action="audit.exported",
            actor=request.user,
            ip=client_ip(request),
            target_type="audit_log",
            target_repr="the audit log",
            metadata={"format": export_format, "filters": form.query()},
        )
    rows = selectors.export_estimate(filters)
    response = StreamingHttpResponse(
        export.lines(export_format, selectors.export_events(filters)),
        content_type=export.FORMATS[export_format],
    )
    name = export.filename(export_format, timezone.now().date())
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response[ROWS_HEADER] = str(rows)
    response["Cache-Control"] = "no-store"
    return response


@operator_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, "csv")


@operator_required
@require_GET
def export_jsonl(request: HttpRequest) -> HttpResponse:
    return _export(request, "jsonl")
