from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from dezky.views.health import healthz
from dezky.views.placeholder import placeholder_view
from flags.api.urls import api_patterns as flag_api
from flags.api.urls import ofrep_patterns
from operators.api_urls import api_patterns as operator_api
from operators.views.auth import admin_login_redirect
from tenants.api.urls import api_patterns as tenant_api
from tenants.views.overview import overview

# One sign-in for everybody, the admin included (see admin_login_redirect).
admin.site.login = admin_login_redirect

shell_patterns = [
    path("", overview, name="overview"),
    path("infrastructure/", placeholder_view("dezky:infrastructure"), name="infrastructure"),
    path("support/", placeholder_view("dezky:support"), name="support"),
    path("billing/", placeholder_view("dezky:billing"), name="billing"),
    path("reports/", placeholder_view("dezky:reports"), name="reports"),
    path("settings/", placeholder_view("dezky:settings"), name="settings"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/", include((flag_api + operator_api + tenant_api, "api"))),
    path("ofrep/v1/", include((ofrep_patterns, "ofrep"))),
    path("", include("operators.urls")),
    path("", include("tenants.urls")),
    path("", include("flags.urls")),
    path("", include("audit.urls")),
    path("", include((shell_patterns, "dezky"))),
]

if settings.DEZKY_BENCH_FLOOR:
    from dezky.views.bench_floor import FloorView

    urlpatterns.insert(0, path("bench/floor/", FloorView.as_view(), name="bench-floor"))

handler403 = "dezky.views.errors.permission_denied"
handler404 = "dezky.views.errors.page_not_found"
handler500 = "dezky.views.errors.server_error"
