from __future__ import annotations

import csv
import io
import json

import pytest
from django.http import StreamingHttpResponse

from audit.models import AuditEvent
from tests.audit.factories import event, events
from tests.audit_helpers import watch_audit

pytestmark = pytest.mark.django_db


def _body(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


class TestCsv:
    def test_streams_the_filter_with_the_sentence_and_a_dated_name(self, operator_client) -> None:
        made = events(3)
        response = operator_client.get("/audit/export.csv?target_type=sample")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].startswith('attachment; filename="audit-events-')
        assert response["X-Audit-Export-Rows"] == "3"
        rows = list(csv.DictReader(io.StringIO(_body(response))))
        assert [int(r["id"]) for r in rows] == [e.id for e in made[::-1]]
        assert rows[0]["sentence"] == "The system edited tenant Sample Tenant"
        assert rows[0]["hash"] == made[-1].hash

    @pytest.mark.parametrize("start", ["=", "+", "-", "@"])
    def test_formula_cells_are_defused(self, operator_client, start) -> None:
        event(target_repr=f'{start}HYPERLINK("http://evil.example")')
        rows = list(csv.DictReader(io.StringIO(_body(
            operator_client.get("/audit/export.csv?target_type=sample")
        ))))  # fmt: skip
        assert rows[0]["target_repr"].startswith(f"'{start}")
        assert rows[0]["sentence"].startswith("The system")

    def test_each_export_is_recorded_once_before_it_streams(
        self, operator_client, operator
    ) -> None:
        with watch_audit() as audit:
            response = operator_client.get("/audit/export.csv?actor=system&q=sample")
            recorded = audit.one("audit.exported", actor=operator)  # before reading the body
            assert recorded.metadata == {
                "format": "csv",
                "filters": {"actor": "system", "q": "sample"},
            }
            _body(response)
        assert len(audit.events) == 1

    def test_a_bad_filter_is_a_400_and_records_nothing(self, operator_client) -> None:
        before = AuditEvent.objects.count()
        response = operator_client.get("/audit/export.csv?since=never")
        assert response.status_code == 400
        assert AuditEvent.objects.count() == before


class TestJsonLines:
    def test_one_object_per_line_with_metadata_as_json(self, operator_client) -> None:
        made = event(metadata={"changes": {"plan": {"before": "starter", "after": "business"}}})
        response = operator_client.get("/audit/export.jsonl?target_type=sample")
        assert response["Content-Type"].startswith("application/x-ndjson")
        assert response["Content-Disposition"].endswith('.jsonl"')
        [line] = _body(response).splitlines()
        row = json.loads(line)
        assert row["id"] == made.id and row["kind"] == "Tenants"
        assert row["metadata"]["changes"]["plan"]["after"] == "business"
        assert row["sentence"] == "The system edited tenant Sample Tenant (changed plan)"
