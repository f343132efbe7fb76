from django.urls import path

from monitor.views import incidents, infrastructure

app_name = "monitor"

urlpatterns = [
    path("infrastructure/", infrastructure.infrastructure, name="infrastructure"),
    path("infrastructure/probe/", infrastructure.probe_now, name="probe"),
    path("incidents/", incidents.incident_list, name="incidents"),
    path("incidents/new/", incidents.incident_new, name="incident_new"),
    path("incidents/<int:pk>/", incidents.incident_detail, name="incident"),
    path("incidents/<int:pk>/update/", incidents.incident_update, name="incident_update"),
    path("incidents/<int:pk>/resolve/", incidents.incident_resolve, name="incident_resolve"),
]
