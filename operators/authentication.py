"""How API callers prove who they are: service tokens here (as `Authorization: Bearer`
or OFREP's `X-API-Key`), operators by their console session."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from operators.tokens import TOKEN_PREFIX, ServicePrincipal, principal_for


class ServiceTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[ServicePrincipal, str] | None:
        token = _presented_token(request)
        if token is None:
            return None  # not ours: another scheme (or the session) may know the caller
        principal = principal_for(token)
        if principal is None:
            raise AuthenticationFailed("Invalid or revoked service token.")
        return principal, token

    def authenticate_header(self, request: Any) -> str:
        # Makes DRF answer 401 (not 403) to a caller without credentials.
        return 'Bearer realm="dezky"'


def _presented_token(request: Any) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip().startswith(TOKEN_PREFIX):
        return value.strip()
    api_key = request.META.get("HTTP_X_API_KEY", "").strip()
    return api_key or None


class ServiceTokenScheme(OpenApiAuthenticationExtension):
    """Describes service tokens in the OpenAPI schema."""

    target_class = "operators.authentication.ServiceTokenAuthentication"
    name = "serviceToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A service token (dzk_…) from the Django admin; also accepted "
            "as an X-API-Key header.",
        }
