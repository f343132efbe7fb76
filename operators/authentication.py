"""How API callers prove who they are: services by a service token (as
`Authorization: Bearer dzk_…` or OFREP's `X-API-Key`) or by a JWT from the identity
provider (`Authorization: Bearer <JWT>`), operators by their console session.

A credential that is presented but not valid is a 401, never a fall-through to
the next scheme, so a bad token can never end up treated as "anonymous".
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException, AuthenticationFailed, PermissionDenied

from operators.models import TokenScope
from operators.oidc import provider
from operators.tokens import TOKEN_PREFIX, ServicePrincipal, principal_for

logger = logging.getLogger(__name__)


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


class ProviderUnavailable(APIException):
    status_code = 503
    default_detail = "The identity provider's signing keys cannot be fetched; try again shortly."
    default_code = "provider_unavailable"


class ServiceJWTAuthentication(BaseAuthentication):
    """Client-credentials JWTs from the identity provider, verified here against its
    JWKS (cached; see operators/oidc/provider.py): no call to the provider per request.

    Not mozilla-django-oidc's DRF class: that one calls userinfo on every request
    and checks no audience, so a token issued to another application of the same
    Authentik would pass. Here `iss` must be OIDC_ISSUER, `aud` must contain
    OIDC_SERVICE_AUDIENCE, `exp` must lie ahead (with OIDC_CLOCK_SKEW_SECONDS).
    The caller's scopes are the service scopes (flags:read, flags:evaluate,
    tenants:read, audit:read) named in the token's `scope` claim; other scopes are ignored. Only
    the service accounts listed in OIDC_SERVICE_SUBJECTS are let in (403 for any
    other valid token): any user of the same Authentik could ask for a token.
    """

    def authenticate(self, request: Any) -> tuple[ServicePrincipal, str] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, value = header.partition(" ")
        token = value.strip()
        if scheme.lower() == "bearer" and not token:
            # A caller that meant to send a token and sent none is told so, not
            # answered as whoever its session cookie (if any) says it is.
            raise AuthenticationFailed("The Authorization header says Bearer but holds no token.")
        if scheme.lower() != "bearer" or token.startswith(TOKEN_PREFIX):
            return None  # not a bearer JWT: another scheme may know the caller
        if not (settings.OIDC_ISSUER and settings.OIDC_SERVICE_AUDIENCE):
            raise AuthenticationFailed("Invalid bearer token.")
        try:
            claims = provider.verify_jwt(token, audience=settings.OIDC_SERVICE_AUDIENCE)
        except provider.InvalidToken as err:
            logger.info("service JWT refused: %s", err.reason)
            raise AuthenticationFailed("Invalid or expired bearer token.") from None
        except provider.ProviderError as err:
            logger.warning("service JWT: provider unavailable: %s", err)
            raise ProviderUnavailable() from None
        subject = str(claims.get("sub") or claims.get("client_id") or "")
        if subject not in settings.OIDC_SERVICE_SUBJECTS:
            logger.info("service JWT refused: subject %r is not in OIDC_SERVICE_SUBJECTS", subject)
            raise PermissionDenied("The token's subject is not a registered service account.")
        return service_principal_from_claims(claims), token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="dezky"'


def service_principal_from_claims(claims: dict[str, Any]) -> ServicePrincipal:
    granted = str(claims.get("scope") or "").split()
    scopes = frozenset(s for s in granted if s in TokenScope.values)
    name = str(claims.get("azp") or claims.get("client_id") or claims["sub"])
    return ServicePrincipal(None, f"jwt:{name}", scopes)


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


class ServiceJWTScheme(OpenApiAuthenticationExtension):
    """Describes provider-issued service JWTs in the OpenAPI schema."""

    target_class = "operators.authentication.ServiceJWTAuthentication"
    name = "serviceJWT"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A client-credentials access token from Authentik whose `scope` "
            "names the service scopes it needs.",
        }
