"""Session refresh: after OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS a signed-in operator is
sent back through the provider (silently, `prompt=none`), which is when a change in
Authentik (removed from the admin group, deactivated) reaches the console.

mozilla-django-oidc's SessionRefresh answers with a 302 to the provider, which
htmx would follow inside the fragment it is swapping. Here an htmx request gets a
401 with `HX-Redirect` to the page it came from (htmx then loads that page as a
whole, and that load is refreshed as usual), and a non-GET request (a form post,
an API call with the session) gets a 401 rather than a redirect that loses its body.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from mozilla_django_oidc.middleware import SessionRefresh

from operators.oidc import provider
from operators.oidc.backend import provider_setting

logger = logging.getLogger(__name__)


class OidcSessionRefresh(SessionRefresh):
    get_settings = staticmethod(provider_setting)

    def __init__(self, get_response: Any) -> None:
        # The library's __init__ reads the authorize endpoint at start-up, which
        # would ask the provider before the first request; it is read on use here.
        MiddlewareMixin.__init__(self, get_response)
        self.OIDC_EXEMPT_URLS = []
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_STATE_SIZE = 32
        self.OIDC_AUTHENTICATION_CALLBACK_URL = settings.OIDC_AUTHENTICATION_CALLBACK_URL
        self.OIDC_RP_SCOPES = settings.OIDC_RP_SCOPES
        self.OIDC_USE_NONCE = settings.OIDC_USE_NONCE
        self.OIDC_NONCE_SIZE = 32

    @property
    def OIDC_OP_AUTHORIZATION_ENDPOINT(self) -> str:
        return provider.endpoint("OIDC_OP_AUTHORIZATION_ENDPOINT")

    @cached_property
    def exempt_urls(self) -> set[str]:
        return {
            reverse(name)
            for name in (
                "operators:oidc-login",
                "operators:oidc-callback",
                "operators:login",
                "operators:logout",
            )
        }

    def is_refreshable_url(self, request: HttpRequest) -> bool:
        if settings.IDENTITY_MODE != "authentik":
            return False
        if request.method == "GET":
            return super().is_refreshable_url(request)
        # The library refreshes GETs only; other methods are checked too, or a
        # removed operator could keep writing until their next page load.
        request.method, method = "GET", request.method
        try:
            return super().is_refreshable_url(request)
        finally:
            request.method = method

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        if not self.is_refreshable_url(request):
            return None
        if request.session.get("oidc_id_token_expiration", 0) > time.time():
            return None
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse(status=401)
            response["HX-Redirect"] = _page_to_reload(request)
            return response
        if request.method != "GET":
            return HttpResponse(
                "Your session needs renewing: reload the page and try again.",
                status=401,
                content_type="text/plain",
            )
        try:
            return super().process_request(request)
        except provider.ProviderError as err:
            logger.warning("session refresh: provider unavailable: %s", err)
            return HttpResponse(
                "The identity provider cannot be reached to renew your session; "
                "try again in a moment.",
                status=503,
                content_type="text/plain",
            )


def _page_to_reload(request: HttpRequest) -> str:
    current = request.headers.get("HX-Current-URL", "")
    if current and url_has_allowed_host_and_scheme(current, allowed_hosts={request.get_host()}):
        return current
    return reverse("console:overview")
