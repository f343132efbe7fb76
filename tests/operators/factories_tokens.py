from __future__ import annotations

from django.db import transaction

from operators import services


def make_token(*scopes: str, name: str | None = None) -> str:
    """A real service token with the given scopes, as the admin would create it."""
    with transaction.atomic():
        _, secret = services.service_token_create(
            name=name or f"sample-service-{'-'.join(scopes) or 'none'}",
            scopes=list(scopes),
            actor=None,
        )
    return secret
