from __future__ import annotations

from django import forms


class InviteForm(forms.Form):
    """The invite dialog's first step; the limits match the API's serializer and the
    service's own check, so the browser, the page and the API refuse the same input."""

    name = forms.CharField(
        max_length=200,
        strip=True,
        error_messages={"required": "Give the operator's name."},
    )
    email = forms.EmailField(
        max_length=254,
        error_messages={
            "required": "Give the email address they sign in with.",
            "invalid": "Enter a valid email address.",
        },
    )
