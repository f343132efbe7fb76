from __future__ import annotations

from django import forms

from core.forms import StringListField
from tenants.models import Plan


class TenantEditForm(forms.Form):
    """The Overview tab's fields an operator may change (the API's PATCH, as a form).

    Django marks a field with errors `aria-invalid="true"`; `place_focus()` points its
    `aria-describedby` at its help and its errors. `autofocus` goes where a person
    should be: the first field of a form that just opened, or the first invalid one
    (for a page loaded without htmx, where shell.js's focus policy does not run).
    """

    name = forms.CharField(max_length=200)
    plan = forms.ChoiceField(choices=Plan.choices)
    billing_email = forms.EmailField(required=False, label="Billing email")
    domains = StringListField(label="Mail domains", help_text="Primary first; one per line.")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            css = "select" if name == "plan" else ("textarea" if name == "domains" else "input")
            field.widget.attrs.setdefault("class", css)

    def place_focus(self) -> TenantEditForm:
        """Point each field at its help and its errors ({% field_errors %}, id
        "<auto_id>-errors"), and autofocus the field a person should be in."""
        invalid = [name for name in self.fields if self.is_bound and name in self.errors]
        first = invalid[0] if invalid else next(iter(self.fields))
        for name, field in self.fields.items():
            auto_id = self[name].auto_id
            described = [f"{auto_id}_helptext"] if field.help_text else []
            if name in invalid:
                described.append(f"{auto_id}-errors")
            field.widget.attrs.pop("aria-describedby", None)
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)
            field.widget.attrs.pop("autofocus", None)
            if name == first:
                field.widget.attrs["autofocus"] = True
        return self
