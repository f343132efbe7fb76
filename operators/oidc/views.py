"""The two ends of the code flow: sending the operator to the provider, and the callback.

Both are mozilla-django-oidc's views (state, nonce and PKCE as the library does
them), with endpoints from discovery, audit events, and failures that land on
the sign-in page with a message instead of a bare redirect or a 400.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from core.request_meta import client_ip
from operators import services
from operators.oidc import provider
from operators.oidc.backend import FAILURE_ATTR, LoginFailed, provider_setting

logger = logging.getLogger(__name__)


def _require_authentik_mode() -> None:
    if settings.IDENTITY_MODE != "authentik":
        raise Http404("Sign-in through an identity provider is not configured.")


def _to_login_page(request: HttpRequest, message: str) -> HttpResponse:
    messages.error(request, message)
    return HttpResponseRedirect(resolve_url("operators:login"))


class OidcLoginView(OIDCAuthenticationRequestView):
    get_settings = staticmethod(provider_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library reads the endpoint here; it is read on use instead (discovery).
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    @property
    def OIDC_OP_AUTH_ENDPOINT(self) -> str:
        return provider.endpoint("OIDC_OP_AUTHORIZATION_ENDPOINT")

    def get(self, request: HttpRequest) -> HttpResponse:
        _require_authentik_mode()
        try:
            return super().get(request)
        except provider.ProviderError as err:
            logger.warning("OIDC login: provider unavailable: %s", err)
            return _to_login_page(
                request, "The identity provider cannot be reached; try again in a moment."
            )


class OidcCallbackView(OIDCAuthenticationCallbackView):
    get_settings = staticmethod(provider_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        _require_authentik_mode()
        try:
            return super().get(request)
        except SuspiciousOperation:
            # An unknown or replayed state: someone else's (or an old) login attempt.
            setattr(request, FAILURE_ATTR, LoginFailed("unknown_state", _RETRY))
            return self.login_failure()

    def login_success(self) -> HttpResponse:
        current = getattr(self.request, "user", None)
        refreshing = bool(current and current.is_authenticated and current == self.user)
        response = super().login_success()
        if not refreshing:
            # A silent refresh is the same session going on; its changes (a lost
            # admin group, say) are audited by user_oidc_sync.
            services.user_logged_in(user=self.user, ip=client_ip(self.request), method="oidc")
        return response

    def login_failure(self) -> HttpResponse:
        request = self.request
        failure: LoginFailed | None = getattr(request, FAILURE_ATTR, None)
        if failure is None:
            error = request.GET.get("error")
            if error:
                failure = LoginFailed(f"provider: {error}", _PROVIDER_ERRORS.get(error, _RETRY))
            elif getattr(self, "user", None) is not None and not self.user.is_active:
                failure = LoginFailed("inactive", "This account is deactivated.", self.user.email)
            else:
                failure = LoginFailed("no_state_in_session", _RETRY)
        services.user_login_failed(
            email=failure.email,
            ip=client_ip(request),
            method="oidc",
            reason=failure.reason,
            counted=True,
        )
        return _to_login_page(request, failure.message)


_RETRY = "Signing in did not complete; please try again."
_PROVIDER_ERRORS = {
    # A silent session refresh found no session at the provider any more.
    "login_required": "Your session ended; please sign in again.",
    "access_denied": "The identity provider did not let you into the console.",
}
