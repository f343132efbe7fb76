"""The shapes of the flags API: validation of what comes in (400s naming the field)
and the JSON of what goes out."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from core.validators import STRING_LIST_MAX
from flags.models import FLAG_KEY_PATTERN, SCOPE_AXES, Flag, FlagState


def _scope_list() -> serializers.ListField:
    # Bounded before the model's own checks run on each entry, so a body with a
    # million entries is refused at once (core.validators.STRING_LIST_MAX).
    return serializers.ListField(
        child=serializers.CharField(max_length=63), required=False, max_length=STRING_LIST_MAX
    )


class ScopeSerializer(serializers.Serializer):
    plans = _scope_list()
    tenant_slugs = _scope_list()
    partner_slugs = _scope_list()
    environments = _scope_list()

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            unknown = set(data) - set(SCOPE_AXES)
            if unknown:
                raise serializers.ValidationError(
                    {
                        axis: [f"Unknown scope axis; use {', '.join(SCOPE_AXES)}."]
                        for axis in unknown
                    }
                )
        return super().to_internal_value(data)


class FlagWriteSerializer(serializers.Serializer):
    """POST (all fields) and PATCH (partial) bodies."""

    key = serializers.RegexField(FLAG_KEY_PATTERN, max_length=63)
    description = serializers.CharField(allow_blank=True, required=False, max_length=2000)
    state = serializers.ChoiceField(choices=FlagState.values, required=False)
    pct = serializers.IntegerField(min_value=0, max_value=100, required=False)
    scope = ScopeSerializer(required=False)
    version = serializers.IntegerField(min_value=1, required=False)

    def service_fields(self) -> dict[str, Any]:
        """The validated body as keyword arguments of the flag services."""
        data = dict(self.validated_data)
        data.pop("key", None)
        data.pop("version", None)
        scope = data.pop("scope", None) or {}
        data.update({f"scope_{axis}": values for axis, values in scope.items()})
        return data


class EvaluateSerializer(serializers.Serializer):
    tenantSlug = serializers.CharField(max_length=63)  # the wire name services send
    environment = serializers.ChoiceField(choices=settings.ENVIRONMENTS, required=False)
    explain = serializers.BooleanField(required=False, default=False)


class PreviewSerializer(serializers.Serializer):
    key = serializers.RegexField(FLAG_KEY_PATTERN, max_length=63)
    state = serializers.ChoiceField(choices=FlagState.values)
    pct = serializers.IntegerField(min_value=0, max_value=100, default=0)
    scope = ScopeSerializer(required=False, default=dict)
    environment = serializers.ChoiceField(choices=settings.ENVIRONMENTS, required=False)


class FlagChangeSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor_email = serializers.CharField()
    changes = serializers.DictField(help_text='{"field": {"before": ..., "after": ...}}')


class ScopeOutSerializer(serializers.Serializer):
    plans = serializers.ListField(child=serializers.CharField())
    tenant_slugs = serializers.ListField(child=serializers.CharField())
    partner_slugs = serializers.ListField(child=serializers.CharField())
    environments = serializers.ListField(child=serializers.CharField())


class FlagSerializer(serializers.Serializer):
    key = serializers.CharField()
    description = serializers.CharField()
    state = serializers.ChoiceField(choices=FlagState.values)
    pct = serializers.IntegerField()
    scope = ScopeOutSerializer()
    version = serializers.IntegerField(help_text="Send it back (If-Match or version) to change.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class FlagDetailSerializer(FlagSerializer):
    history = FlagChangeSerializer(many=True, help_text="The last 20 changes, newest first.")


class FlagListSerializer(serializers.Serializer):
    results = FlagSerializer(many=True)


class FlagConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = FlagDetailSerializer()


class ExplainedResultSerializer(serializers.Serializer):
    value = serializers.BooleanField()
    reason = serializers.ChoiceField(
        choices=["DISABLED", "STATIC", "TARGETING_MATCH", "SPLIT", "DEFAULT"]
    )
    detail = serializers.DictField(
        help_text=(
            '{"state", "environment", "text": the rule in words, "axes": {axis: {"allowed", '
            '"value", "matches"}}, "failed_axes", "bucket" and "pct" (rollout only, else null)}'
        )
    )


class PreviewResultSerializer(serializers.Serializer):
    key = serializers.CharField()
    environment = serializers.CharField()
    on = serializers.IntegerField(help_text="Live tenants the proposed flag turns on.")
    total = serializers.IntegerField(help_text="Live tenants in all.")
    turned_on = serializers.ListField(child=serializers.CharField())
    turned_off = serializers.ListField(child=serializers.CharField())


def flag_json(flag: Flag, *, with_history: bool = False) -> dict[str, Any]:
    data = {
        "key": flag.key,
        "description": flag.description,
        "state": flag.state,
        "pct": flag.pct,
        "scope": flag.scope,
        "version": flag.version,
        "created_at": flag.created_at,
        "updated_at": flag.updated_at,
    }
    if with_history:
        data["history"] = list(flag.history.all())
        return FlagDetailSerializer(data).data
    return FlagSerializer(data).data


def model_errors_as_api(exc: DjangoValidationError) -> dict[str, Any]:
    """Model field names (scope_plans) in the API's words (scope.plans)."""
    errors: dict[str, Any] = {}
    for field, messages in exc.message_dict.items():
        name = f"scope.{field.removeprefix('scope_')}" if field.startswith("scope_") else field
        errors[name] = messages
    return errors


# ------------------------------------------------------------ scheduled changes --
# The flag's editable fields as a schedule takes them (the shape of PATCH
# /api/flags/{key}/), and times that must carry their offset.


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with its offset (`Z` or `+02:00`). A time without one is refused rather
    than read as UTC: a change meant for 09:00 in Berlin must not run at 09:00 UTC."""

    default_error_messages = {
        "naive": "Give the time with its offset, e.g. 2026-06-01T09:00:00+02:00 or …Z.",
    }

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            if "\x00" in value:
                # TRICKY: datetime.fromisoformat reads "…+02:00\x00" as a valid time.
                self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss]±hh:mm")
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None  # well formed but impossible: the parent says so
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)


class OnlyDeclaredFields(serializers.Serializer):
    """Refuses fields it does not declare: a misspelt or misplaced field is a 400
    naming it, never silently ignored."""

    unknown_message = "Unknown field; use {allowed}."

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                message = self.unknown_message.format(allowed=", ".join(self.fields))
                raise serializers.ValidationError({name: [message] for name in unknown})
        return super().to_internal_value(data)


class FlagValuesSerializer(OnlyDeclaredFields):
    """Any of a flag's editable fields, at least one, and nothing else: a misspelt field
    is a 400 naming it, never a schedule that silently writes less than was meant."""

    unknown_message = "Not a field of a flag; use {allowed}."

    description = serializers.CharField(allow_blank=True, required=False, max_length=2000)
    state = serializers.ChoiceField(choices=FlagState.values, required=False)
    pct = serializers.IntegerField(min_value=0, max_value=100, required=False)
    scope = ScopeSerializer(required=False)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and not data:
            raise serializers.ValidationError([f"Give at least one of {', '.join(self.fields)}."])
        return super().to_internal_value(data)


def values_for_service(values: dict[str, Any]) -> dict[str, Any]:
    """Validated FlagValuesSerializer data as the model's field names (scope_plans)."""
    data = dict(values)
    scope = data.pop("scope", None) or {}
    data.update({f"scope_{axis}": items for axis, items in scope.items()})
    return data


def values_as_api(values: dict[str, Any]) -> dict[str, Any]:
    """Stored values (scope_plans) in the shape FlagValuesSerializer takes (scope.plans)."""
    data: dict[str, Any] = {}
    for field, value in values.items():
        if field.startswith("scope_"):
            data.setdefault("scope", {})[field.removeprefix("scope_")] = value
        else:
            data[field] = value
    return data
