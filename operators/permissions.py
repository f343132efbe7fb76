"""Who may do what: the console's and the API's access rules, in one module.

The callers (DESIGN.md, "Who may do what"):
- operator: an active user with `platform_admin`. Everything in the console and
  the API; every write needs one.
- tenant member: an active signed-in user who is not an operator. Reads of the
  tenants they belong to (`is_tenant_member`), nothing in the console.
- service: a ServicePrincipal (a service token, or a provider-issued JWT). Only
  what its scopes open, and each scope opens fixed methods (SCOPE_METHODS), so a
  scope can never become a write by accident. Never the console (pages know
  sessions only).
- anonymous: the sign-in pages and /healthz.

DRF's default (settings.REST_FRAMEWORK) is `IsOperator`: an API view that says
nothing is for operators only. Console views use `operator_required`, which asks
the same `is_operator`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import SAFE_METHODS, BasePermission

from operators.tokens import ServicePrincipal

# Which HTTP methods each service scope opens. Evaluation is a POST (a context in
# the body) but changes nothing.
SCOPE_METHODS: dict[str, frozenset[str]] = {
    "flags:read": frozenset(SAFE_METHODS),
    "flags:evaluate": frozenset({"POST"}),
    "tenants:read": frozenset(SAFE_METHODS),
    "audit:read": frozenset({"GET"}),
}


def is_operator(user: Any) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and not isinstance(user, ServicePrincipal)
        and getattr(user, "platform_admin", False)
    )


def is_service(user: Any) -> bool:
    return isinstance(user, ServicePrincipal)


def has_scope(user: Any, scope: str, method: str | None = None) -> bool:
    """A service whose credential carries `scope`, and (given a method) that the scope opens it."""
    if not (is_service(user) and scope in user.scopes):
        return False
    return method is None or method.upper() in SCOPE_METHODS.get(scope, frozenset())


def is_tenant_member(user: Any, tenant: Any) -> bool:
    """An active signed-in user who belongs to `tenant` (operators see every tenant)."""
    if is_operator(user):
        return True
    if is_service(user) or user is None or not user.is_authenticated or not user.is_active:
        return False
    return tenant.memberships.filter(user_id=user.pk).exists()


def operator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous callers go to the login page; signed-in non-operators get the 403 page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            if getattr(request, "htmx", False):
                # A redirect would be swapped into a fragment; tell htmx to navigate.
                response = HttpResponse(status=401)
                response["HX-Redirect"] = _login_url(request)
                return response
            return redirect_to_login(request.get_full_path())
        if not is_operator(user):
            raise PermissionDenied("The console is for platform operators.")
        return view(request, *args, **kwargs)

    wrapped.operator_required = True  # read by the URL access test
    return wrapped


def _login_url(request: HttpRequest) -> str:
    return redirect_to_login(request.get_full_path()).url


class IsOperator(BasePermission):
    message = "Only platform operators may do this."

    def has_permission(self, request: HttpRequest, view: Any) -> bool:
        return is_operator(request.user)

    @staticmethod
    def opens_for_services(method: str) -> bool:
        """Whether any service credential can pass for `method` (the API schema lists
        the service schemes only where one can)."""
        return False


def operator_or_scope(scope: str) -> type[BasePermission]:
    """Operators, or services whose credential carries `scope`, for the methods the
    scope opens (SCOPE_METHODS)."""
    if scope not in SCOPE_METHODS:
        raise ValueError(f"unknown service scope {scope!r}")

    class OperatorOrScope(BasePermission):
        message = f"Needs a platform operator or a service credential with the {scope} scope."

        def has_permission(self, request: HttpRequest, view: Any) -> bool:
            user = request.user
            return is_operator(user) or has_scope(user, scope, request.method)

        @staticmethod
        def opens_for_services(method: str) -> bool:
            return method.upper() in SCOPE_METHODS[scope]

    OperatorOrScope.__name__ = f"OperatorOr_{scope.replace(':', '_')}"
    return OperatorOrScope


class TenantReader(BasePermission):
    """Reads of tenant data: operators, services with tenants:read, and active signed-in
    users, whom the tenants selectors narrow to the tenants they are a member of (a 404
    for any other, so slugs do not leak). Anything but a read is for operators only."""

    message = "Needs a signed-in user or a service credential with the tenants:read scope."

    def has_permission(self, request: HttpRequest, view: Any) -> bool:
        user = request.user
        if is_operator(user):
            return True
        if request.method not in SAFE_METHODS:
            return False
        if is_service(user):
            return has_scope(user, "tenants:read", request.method)
        return bool(user.is_authenticated and user.is_active)

    @staticmethod
    def opens_for_services(method: str) -> bool:
        return method.upper() in SCOPE_METHODS["tenants:read"]
