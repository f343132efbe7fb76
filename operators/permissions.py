"""Who may do what: the console's and the API's access rules, in one module.

An operator is an active user with `platform_admin`. Console pages are for
operators only; the API uses the same predicate through `IsOperator`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission

from operators.tokens import ServicePrincipal


def is_operator(user: Any) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and getattr(user, "platform_admin", False)
    )


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


def has_scope(user: Any, scope: str) -> bool:
    return isinstance(user, ServicePrincipal) and scope in user.scopes


def operator_or_scope(scope: str) -> type[BasePermission]:
    """Operators, or services whose token carries `scope` (reads and evaluation)."""

    class OperatorOrScope(BasePermission):
        message = f"Needs a platform operator or a service token with the {scope} scope."

        def has_permission(self, request: HttpRequest, view: Any) -> bool:
            return is_operator(request.user) or has_scope(request.user, scope)

    OperatorOrScope.__name__ = f"OperatorOr_{scope.replace(':', '_')}"
    return OperatorOrScope
