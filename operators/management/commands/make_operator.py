"""`manage.py make_operator <email>`: make an existing account an operator.

The way in for the first operator in Authentik mode, where nobody can invite
anyone until someone is in the admin group (AUTHENTIK_ADMIN_GROUP). See
`operators.invites.operator_grant` for what it does in each mode. Any refusal is
a CommandError (exit code 1) in words a person can act on.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import ApplicationError
from operators.invites import operator_grant


class Command(BaseCommand):
    help = (
        "Make the account with this email an operator. Authentik mode: the existing "
        "Authentik user is added to the admin group and gets a local operator account. "
        "Local mode: an existing local user becomes an operator."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The account's email address.")

    def handle(self, *args: Any, email: str, **options: Any) -> None:
        try:
            result = operator_grant(email=email, actor=None)
        except ApplicationError as err:
            raise CommandError(err.message) from None
        user = result.user
        if result.directory == "authentik":
            self.stdout.write(
                self.style.SUCCESS(
                    f"{user.email} is an operator: Authentik user pk {result.directory_user_pk} "
                    f"is in the group {settings.AUTHENTIK_ADMIN_GROUP}, and "
                    f"{'a new' if result.created else 'the existing'} local user is a platform "
                    'admin. They sign in with "Sign in with Authentik".'
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{user.email} is an operator; they sign in with their password here."
                )
            )
