from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from audit.api.urls import api_patterns as audit_api
from console.views.health import favicon, healthz
from console.views.palette import palette
from console.views.placeholder import placeholder_view
from flags.api.urls import api_patterns as flag_api
from flags.api.urls import ofrep_patterns
from operators.api_urls import api_patterns as operator_api
from operators.permissions import operator_required
from operators.views.auth import admin_login_redirect
from operators.views.settings import settings_page
from tenants.api.urls import api_patterns as tenant_api
from tenants.views.overview import overview

# One sign-in for everybody, the admin included (see admin_login_redirect).
admin.site.login = admin_login_redirect

# The sidebar entries whose screens are not built yet: labelled placeholders.
PLACEHOLDERS = ("support", "billing", "reports")

shell_patterns = [
    path("", overview, name="overview"),
    path("palette/", operator_required(palette), name="palette"),
    path("settings/", settings_page, name="settings"),
    *(
        path(f"{name}/", operator_required(placeholder_view(f"console:{name}")), name=name)
        for name in PLACEHOLDERS
    ),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/", include((flag_api + operator_api + tenant_api + audit_api, "api"))),
    path("ofrep/v1/", include((ofrep_patterns, "ofrep"))),
    path("", include("operators.urls")),
    path("", include("tenants.urls")),
    path("", include("flags.urls")),
    path("", include("audit.urls")),
    path("", include("monitor.urls")),
    path("", include("notifications.urls")),
    path("", include((shell_patterns, "console"))),
]

if settings.DEZKY_BENCH_FLOOR:
    from flags.api.bench_floor import FloorView

    urlpatterns.insert(0, path("bench/floor/", FloorView.as_view(), name="bench-floor"))

handler400 = "console.views.errors.bad_request"
handler403 = "console.views.errors.permission_denied"
handler404 = "console.views.errors.page_not_found"
handler500 = "console.views.errors.server_error"
