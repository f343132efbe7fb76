from django.urls import path

from audit.views import chain, export, log

app_name = "audit"

urlpatterns = [
    path("audit/", log.audit_list, name="list"),
    path("audit/export.csv", export.export_csv, name="export_csv"),
    path("audit/export.jsonl", export.export_jsonl, name="export_jsonl"),
    path("audit/verify/", chain.chain_verify, name="verify"),
    path("audit/<int:event_id>/", log.audit_detail, name="detail"),
]
