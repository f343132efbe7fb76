"""mozilla-django-oidc's authentication backend, with the gaps it leaves closed.

- The library decodes the ID token with `verify_aud=False` and never checks
  `iss`; here every token goes through `provider.verify_jwt` (algorithm, key,
  signature, issuer, audience, expiry, nonce).
- Its `get_user()` ignores `is_active`, so a deactivated user would keep a live
  session; here it returns nobody for an inactive user, and Django's
  AuthenticationMiddleware calls it on every request.
- Its user matching is by email only; here `sub` comes first and email links
  once, under the rules in `operators.services.user_oidc_sync`.
- Endpoints come from discovery (`provider.endpoint`), looked up only when
  needed, so a password login (break-glass) never waits on the provider.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from core.request_meta import client_ip
from operators import services
from operators.directory import DirectoryError, get_directory
from operators.models import User, normalize_email
from operators.oidc import provider

logger = logging.getLogger(__name__)

# Where the callback view finds why a login failed (the backend cannot return it).
FAILURE_ATTR = "dezky_oidc_failure"


class LoginFailed(Exception):
    def __init__(self, reason: str, message: str, email: str = ""):
        super().__init__(reason)
        self.reason, self.message, self.email = reason, message, email


def provider_setting(attr: str, *args: Any) -> Any:
    """mozilla-django-oidc's settings lookup, with endpoints from discovery."""
    if attr in provider.ENDPOINT_SETTINGS:
        return provider.endpoint(attr)
    return import_from_settings(attr, *args)


def record_failure(request: HttpRequest, failure: LoginFailed) -> None:
    setattr(request, FAILURE_ATTR, failure)


class OperatorOIDCBackend(OIDCAuthenticationBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # TRICKY: the library's __init__ reads every endpoint, which here would mean
        # asking the provider whenever Django instantiates backends (every request
        # of a signed-in user, every password login). The endpoints are properties.
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.UserModel = get_user_model()

    get_settings = staticmethod(provider_setting)

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:
        return provider.endpoint("OIDC_OP_TOKEN_ENDPOINT")

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:
        return provider.endpoint("OIDC_OP_USER_ENDPOINT")

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:
        return provider.endpoint("OIDC_OP_JWKS_ENDPOINT")

    # --- the session's user, on every request ------------------------------------

    def get_user(self, user_id: Any) -> User | None:
        user = super().get_user(user_id)
        # The library's version returns inactive users too; Django's ModelBackend does not.
        return user if user is not None and user.is_active else None

    # --- the login -------------------------------------------------------------------

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        if request is None or "code" not in request.GET or "state" not in request.GET:
            return None  # a password login, or not ours
        try:
            return super().authenticate(request, **kwargs)
        except LoginFailed as failure:
            record_failure(request, failure)
        except provider.ProviderError as err:
            logger.warning("OIDC login: provider unavailable: %s", err)
            record_failure(
                request,
                LoginFailed(
                    "provider_unavailable",
                    "The identity provider cannot be reached; try again in a moment.",
                ),
            )
        except requests.RequestException as err:
            # The token endpoint refused the code (reused, expired) or was unreachable.
            logger.warning("OIDC login: token request failed: %s", err)
            record_failure(
                request,
                LoginFailed("token_request_failed", "Signing in did not complete; try again."),
            )
        return None

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        nonce = kwargs.get("nonce") if settings.OIDC_USE_NONCE else None
        try:
            return provider.verify_jwt(token, audience=settings.OIDC_RP_CLIENT_ID, nonce=nonce)
        except provider.InvalidToken as err:
            logger.warning("OIDC login: ID token refused: %s", err.reason)
            raise LoginFailed(
                f"id_token: {err.reason}", "The identity provider's answer was not valid."
            ) from None

    def get_or_create_user(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> User | None:
        userinfo = self.get_userinfo(access_token, id_token, payload)
        # OpenID Connect Core 5.3.2: userinfo about another subject must not be used.
        if userinfo.get("sub") != payload.get("sub"):
            raise LoginFailed("userinfo_subject_mismatch", "The identity provider's answer was "
                              "not valid.")  # fmt: skip
        identity = identity_from_claims({**payload, **userinfo})
        ip = client_ip(self.request)
        try:
            return services.user_oidc_sync(
                identity=identity, invite_confirmed_pk=self._invite_confirmed_pk(identity), ip=ip
            )
        except services.LoginRefused as refused:
            raise LoginFailed(refused.reason, refused.message, identity.email) from None

    def _invite_confirmed_pk(self, identity: services.OidcIdentity) -> int | None:
        """The Authentik pk of the invited user this identity is, asked of Authentik.

        Only when an unverified email would otherwise stop a first login of an
        invited user: Authentik's subject for an account is its `uid` (sub mode
        "hashed user id", the default) or its pk (sub mode "user id"), so asking
        for the invited pk proves which account signed in. Outside any transaction.
        """
        if identity.email_verified or not identity.email:
            return None
        if User.objects.filter(oidc_subject=identity.subject).exists():
            return None
        invited = (
            User.objects.filter(email=identity.email, oidc_subject__isnull=True)
            .exclude(authentik_pk__isnull=True)
            .values_list("authentik_pk", flat=True)
            .first()
        )
        if invited is None or settings.IDENTITY_MODE != "authentik":
            return None
        try:
            account = get_directory().get_user(invited)
        except DirectoryError as err:
            logger.warning("OIDC login: could not ask Authentik about pk %s: %s", invited, err)
            return None
        if account is not None and identity.subject == account.subject:
            return account.pk
        return None

    def store_tokens(self, access_token: str, id_token: str) -> None:
        # Only the ID token is kept: the end-session request needs it as id_token_hint.
        self.request.session["oidc_id_token"] = id_token


def identity_from_claims(claims: dict[str, Any]) -> services.OidcIdentity:
    groups = claims.get("groups") or []
    if not isinstance(groups, list):
        groups = []
    return services.OidcIdentity(
        subject=str(claims["sub"]),
        email=normalize_email(str(claims.get("email") or "")),
        email_verified=claims.get("email_verified") is True,
        name=str(claims.get("name") or claims.get("preferred_username") or "")[:200],
        groups=tuple(str(g) for g in groups),
    )
