from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class DirectoryUser:
    pk: int
    username: str
    email: str
    name: str
    is_active: bool = True
    subject: str = ""  # what the identity provider will put in the ID token's `sub`
    attributes: dict[str, Any] = field(default_factory=dict)


class DirectoryError(Exception):
    """The directory refused or failed; `message` is its own words for a person.

    `status` is the upstream HTTP status (None when it never answered), `field` the
    request field it complained about, when it said.
    """

    def __init__(self, message: str, *, status: int | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field

    @property
    def sentence(self) -> str:
        """The message ending with a full stop, to be followed by what happens next
        (upstream words such as "Token invalid/expired" come without one)."""
        text = self.message.rstrip()
        return text if text.endswith((".", "!", "?")) else f"{text}."


class Directory(Protocol):
    kind: str  # "authentik" or "local"

    def find_user_by_email(self, email: str) -> DirectoryUser | None: ...

    def get_user(self, user_pk: int) -> DirectoryUser | None: ...

    def ensure_group(self, name: str, *, verify: bool = False) -> str: ...

    def create_user(
        self, *, email: str, name: str, group_ids: list[str], attributes: dict[str, Any]
    ) -> DirectoryUser: ...

    def add_user_to_group(self, user_pk: int, group_id: str) -> None: ...

    def remove_user_from_group(self, user_pk: int, group_id: str) -> None:
        """Idempotent: a user who is not in the group is not an error."""
        ...

    def set_user_active(self, user_pk: int, active: bool) -> None:
        """Activate or deactivate the account (Authentik: PATCH is_active)."""
        ...

    def recovery_link(self, user_pk: int) -> str | None: ...

    def set_password(self, user_pk: int, password: str) -> None: ...

    def matches_settings(self) -> bool: ...
