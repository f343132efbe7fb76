"""Completes the OpenAPI schema with the error answers every operation can give, so
a client (or a schema-driven fuzzer) finds each status it can get documented:
401 and 403 everywhere (every endpoint needs a caller who may), 400 where a body or
a query is read, 404 where the path names something, and 429 where sign-in limits
apply is left to the views that declare it. Views that declare an answer keep theirs.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

# The security schemes of service credentials (operators/authentication.py).
SERVICE_SCHEMES = frozenset({"serviceToken", "serviceJWT"})

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in a sentence."},
        "field": {"type": "string", "description": "The field or parameter it is about."},
    },
    "additionalProperties": True,
    "description": 'An error: {"detail"} or, for invalid input, {"<field>": ["..."]}.',
}
DESCRIPTIONS = {
    "400": "Invalid input: the body names each field that is wrong.",
    "401": "No valid credentials.",
    "403": "The caller may not do this.",
    "404": "Nothing with that name or id.",
}
METHODS = ("get", "post", "put", "patch", "delete")


def add_error_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, item in result.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            codes = ["400", "401", "403"]
            if "{" in path:
                codes.append("404")
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    code,
                    {
                        "description": DESCRIPTIONS[code],
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                )
    return result


class AutoSchema(SpectacularAutoSchema):
    """Lists the service credentials as ways in only for the operations a service can
    call: a write no scope opens documents the console session alone. A permission
    says so with `opens_for_services(method)`; one that does not is taken to open."""

    def get_auth(self) -> list[dict[str, list[str]]]:
        auth: list[dict[str, list[str]]] = super().get_auth()
        for permission in self.view.get_permissions():
            opens = getattr(permission, "opens_for_services", None)
            if opens is None or opens(self.method):
                return auth
        return [scheme for scheme in auth if not SERVICE_SCHEMES & scheme.keys()]
