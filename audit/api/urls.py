from django.urls import path

from audit.api import views

api_patterns = [
    path("audit/events/", views.AuditEventListView.as_view(), name="audit-event-list"),
]
