"""The incident forms: shapes only. The services validate again (for every other
caller) and their errors land on the same fields."""

from __future__ import annotations

from typing import Any

from django import forms

from core.forms import StringListField
from monitor.models import BODY_MAX_LENGTH, TITLE_MAX_LENGTH, Component, IncidentStatus, Severity
from tenants.models import Tenant

MAX_AFFECTED_TENANTS = 500


class IncidentOpenForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX_LENGTH, label="Title")
    severity = forms.ChoiceField(choices=Severity.choices, label="Severity")
    affected_components = forms.MultipleChoiceField(
        choices=Component.choices, required=False, label="Affected components",
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    affected_tenants = StringListField(
        label="Affected tenants",
        help_text="Tenant slugs, one per line or separated by commas; empty for none.",
        max_length=20_000,
    )
    body = forms.CharField(
        max_length=BODY_MAX_LENGTH, label="First update", widget=forms.Textarea(attrs={"rows": 4})
    )

    def clean_affected_tenants(self) -> list[Tenant]:
        slugs: list[str] = list(dict.fromkeys(self.cleaned_data["affected_tenants"]))
        if len(slugs) > MAX_AFFECTED_TENANTS:
            raise forms.ValidationError(f"At most {MAX_AFFECTED_TENANTS} tenants.")
        found = {t.slug: t for t in Tenant.objects.filter(slug__in=slugs)}
        unknown = [s for s in slugs if s not in found]
        if unknown:
            shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
            raise forms.ValidationError(f"No tenant has the slug {shown}.")
        return [found[s] for s in slugs]


class IncidentUpdateForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(v, label) for v, label in IncidentStatus.choices if v != IncidentStatus.RESOLVED],
        label="Status",
    )
    body = forms.CharField(
        max_length=BODY_MAX_LENGTH, label="Update", widget=forms.Textarea(attrs={"rows": 3})
    )


class IncidentResolveForm(forms.Form):
    body = forms.CharField(
        max_length=BODY_MAX_LENGTH, label="Final note", widget=forms.Textarea(attrs={"rows": 3})
    )


def errors_from(form: forms.Form, error: Any) -> None:
    """A service's ValidationError (or ApplicationError) onto the form's fields."""
    if hasattr(error, "message_dict"):
        for name, problems in error.message_dict.items():
            form.add_error(name if name in form.fields else None, problems)
    else:
        name = getattr(error, "field", None)
        form.add_error(name if name in form.fields else None, getattr(error, "message", str(error)))
