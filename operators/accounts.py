"""An operator's own account: changing their password and ending their other
sessions. Each write records its audit event in the same transaction.

Passwords change here in local mode only; in Authentik mode they are Authentik's
(the settings page links to its user settings).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from audit import services as audit
from core import ratelimit
from core.errors import ApplicationError, RateLimited
from operators.models import User
from operators.sessions import end_user_sessions

# Wrong current passwords allowed per account in LOGIN_FAILURE_WINDOW_SECONDS: the form
# must not become a way to guess a password with a session someone left open.
CURRENT_PASSWORD_FAILURES = 5


@dataclass(frozen=True)
class PasswordChanged:
    user: User  # as saved, for update_session_auth_hash
    was_temporary: bool
    other_sessions_ended: int


def password_change_allowed() -> bool:
    return settings.IDENTITY_MODE == "local"


def user_password_change(
    *,
    user: User,
    current_password: str,
    new_password: str,
    keep_session_key: str | None,
    ip: str | None,
) -> PasswordChanged:
    """Change `user`'s own password after checking the current one.

    Refusals name the field: ValidationError {"current_password": [...]} or
    {"new_password": [...]} (AUTH_PASSWORD_VALIDATORS, and never the current one
    again); RateLimited after too many wrong current passwords. On success the
    temporary-password flags are cleared and every other session of the user is
    ended (a changed password signs them out anyway); the caller keeps its own
    session with `update_session_auth_hash`.
    """
    if not password_change_allowed():
        raise ApplicationError("Passwords are managed in Authentik.", field="current_password")
    limit_key = f"password-change:{user.pk}"
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    # Counted before the check, as sign-in is, so concurrent posts cannot all pass it.
    attempt = ratelimit.reserve(limit_key, limit=CURRENT_PASSWORD_FAILURES, window_seconds=window)
    if not attempt.allowed:
        ratelimit.give_back(attempt)
        raise RateLimited(
            f"Too many wrong current passwords. Wait {max(1, window // 60)} minutes and try again.",
            field="current_password",
        )
    if not user.check_password(current_password):
        raise ValidationError({"current_password": ["That is not your current password."]})
    ratelimit.give_back(attempt)  # a right current password is not a failure
    if new_password == current_password:
        raise ValidationError(
            {"new_password": ["Choose a new password, different from the current one."]}
        )
    try:
        validate_password(new_password, user)
    except ValidationError as err:
        raise ValidationError({"new_password": err.messages}) from None
    return _save_password(user=user, new_password=new_password, keep=keep_session_key, ip=ip)


@transaction.atomic
def _save_password(
    *, user: User, new_password: str, keep: str | None, ip: str | None
) -> PasswordChanged:
    user = User.objects.select_for_update().get(pk=user.pk)
    was_temporary = user.password_change_required
    user.set_password(new_password)
    user.password_change_required = False
    user.password_expires_at = None
    user.save(update_fields=["password", "password_change_required", "password_expires_at"])
    ended = end_user_sessions(user, keep_session_key=keep)
    audit.record(
        action="user.password_changed",
        actor=user,
        target=user,
        ip=ip,
        metadata={"temporary": was_temporary, "other_sessions_ended": ended},
    )
    return PasswordChanged(user=user, was_temporary=was_temporary, other_sessions_ended=ended)


@transaction.atomic
def user_sessions_end_others(*, user: User, current_session_key: str | None, ip: str | None) -> int:
    """Sign `user` out everywhere but this session; how many sessions ended. Nothing is
    recorded when there was nothing to end."""
    ended = end_user_sessions(user, keep_session_key=current_session_key)
    if ended:
        audit.record(
            action="user.sessions_ended",
            actor=user,
            target=user,
            ip=ip,
            metadata={"count": ended},
        )
    return ended
