from __future__ import annotations

from django import forms

from core.forms import StringListField
from tenants.models import Plan


class TenantEditForm(forms.Form):
    """The Overview tab's fields an operator may change (the API's PATCH, as a form)."""

    name = forms.CharField(max_length=200)
    plan = forms.ChoiceField(choices=Plan.choices)
    billing_email = forms.EmailField(required=False, label="Billing email")
    domains = StringListField(label="Mail domains", help_text="Primary first; one per line.")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            css = "select" if name == "plan" else ("textarea" if name == "domains" else "input")
            field.widget.attrs.setdefault("class", css)
