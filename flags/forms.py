"""Forms of the flags pages. They check the shape of what an operator sent and name
the field when it is wrong; the rules themselves are enforced by flags.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from core.validators import validate_slug
from flags.models import SCOPE_AXES, Flag, FlagState, RetiredFlagKey, validate_flag_key
from tenants.models import Plan

FIELD_LABELS = {
    "key": "Key",
    "description": "Description",
    "state": "State",
    "pct": "Rollout %",
    "scope_plans": "Plans",
    "scope_tenant_slugs": "Tenants",
    "scope_partner_slugs": "Partners",
    "scope_environments": "Environments",
}


class SlugListField(forms.Field):
    """Repeated inputs of one name (chips), each a slug; duplicates dropped, order kept."""

    widget = forms.MultipleHiddenInput
    hidden_widget = forms.MultipleHiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        seen: dict[str, None] = {}
        for item in value:
            text = str(item).strip()
            if text:
                seen.setdefault(text, None)
        return list(seen)

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        for slug in value:
            try:
                validate_slug(slug)
            except ValidationError:
                raise ValidationError(
                    "%(value)s is not a slug (lower-case letters, digits and hyphens).",
                    code="invalid_slug",
                    params={"value": slug},
                ) from None


class FlagValuesForm(forms.Form):
    """What an operator edits on a flag: description, state, rollout % and scope.

    Rendered twice in the panel: as the visible controls, and (prefix "base") as
    hidden copies of the values the panel was rendered from, which is what a
    conflicting save is compared against.
    """

    description = forms.CharField(label="Description", required=False, widget=forms.Textarea)
    state = forms.ChoiceField(label="State", choices=FlagState.choices)
    pct = forms.IntegerField(
        label="Rollout %",
        min_value=0,
        max_value=100,
        # Shown after the field's label ("Rollout %: must be between 0 and 100"), in
        # the panel, its preview, and by flags.js as the operator types.
        error_messages={
            "required": "must be set (0 to 100)",
            "invalid": "must be a whole number from 0 to 100",
            "min_value": "must be between 0 and 100",
            "max_value": "must be between 0 and 100",
        },
    )
    scope_plans = forms.MultipleChoiceField(label="Plans", choices=Plan.choices, required=False)
    scope_tenant_slugs = SlugListField(label="Tenants")
    scope_partner_slugs = SlugListField(label="Partners")
    scope_environments = forms.MultipleChoiceField(
        label="Environments",
        choices=[(env, env) for env in settings.ENVIRONMENTS],
        required=False,
    )

    def clean_description(self) -> str:
        # Browsers submit textarea line breaks as \r\n; store one kind so a resave of
        # the same text is not a change.
        return self.cleaned_data["description"].replace("\r\n", "\n")

    @classmethod
    def initial_from(cls, flag: Flag) -> dict[str, Any]:
        return {
            "description": flag.description,
            "state": flag.state,
            "pct": flag.pct,
            **{f"scope_{axis}": list(getattr(flag, f"scope_{axis}")) for axis in SCOPE_AXES},
        }

    def scope(self) -> dict[str, list[str]]:
        return {axis: self.cleaned_data[f"scope_{axis}"] for axis in SCOPE_AXES}

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "description": data["description"],
            "state": data["state"],
            "pct": data["pct"],
            **{f"scope_{axis}": data[f"scope_{axis}"] for axis in SCOPE_AXES},
        }


class FlagEditForm(FlagValuesForm):
    # The version the panel was rendered from; a save on top of a newer one is a conflict.
    expected_version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    # Sent only by "Save mine anyway" after a conflict: the version the operator reviewed.
    overwrite_version = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    # A save that flips tenants in prod is shown first (flags.save_confirmation): its
    # "Save anyway" sends the confirmation's token, "Back to editing" asks for the form.
    confirm_token = forms.CharField(required=False, max_length=128, widget=forms.HiddenInput)
    back_to_editing = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def version_to_check(self) -> int:
        return self.cleaned_data.get("overwrite_version") or self.cleaned_data["expected_version"]


class FlagPreviewForm(FlagValuesForm):
    """The rules only; the description does not change who gets a flag."""

    preview_environment = forms.ChoiceField(
        label="Environment",
        choices=[(env, env) for env in settings.ENVIRONMENTS],
        required=False,
    )

    def environment(self) -> str:
        return self.cleaned_data.get("preview_environment") or settings.DEZKY_ENVIRONMENT


class FlagCreateForm(forms.Form):
    key = forms.CharField(
        label="Key",
        max_length=63,
        validators=[validate_flag_key],
        help_text="Lower-case letters, digits and underscores; starts with a letter. "
        "It can never be changed or reused.",
    )
    description = forms.CharField(label="Description", required=False, widget=forms.Textarea)

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        # The service checks both again inside its transaction; this is for feedback as
        # the operator types.
        if Flag.objects.filter(key=key).exists():
            raise ValidationError("A flag with this key already exists.", code="taken")
        if RetiredFlagKey.objects.filter(key=key).exists():
            raise ValidationError(
                "This key belonged to a deleted flag and is never reused; choose another.",
                code="retired",
            )
        return key


SCOPE_SEARCH_AXES = {"tenant_slugs": "Tenants", "partner_slugs": "Partners"}


class ScopeSearchForm(forms.Form):
    axis = forms.ChoiceField(choices=list(SCOPE_SEARCH_AXES.items()))
    find = forms.CharField(required=False, max_length=100)
