"""Components built once for every page: {% form_field %}, and the optional text of
{% confirm_dialog %} and its confirm page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django import forms
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.template import Context, Template
from django.test import RequestFactory

from console.responder import ConfirmField, confirm_page


class SampleForm(forms.Form):
    name = forms.CharField(max_length=200, error_messages={"required": "Give a name."})
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=[("owner", "Owner"), ("member", "Member")], initial="member")
    notes = forms.CharField(required=False, widget=forms.Textarea)
    pct = forms.IntegerField(label="Rollout %", min_value=0, max_value=100)
    plans = forms.MultipleChoiceField(
        choices=[("free", "Free"), ("pro", "Pro")],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


def render(source: str, **context: Any) -> str:
    return Template("{% load console %}" + source).render(Context(context))


def tag(html: str, element: str, id: str) -> str:
    found = re.search(rf'<{element}\b[^>]*\bid="{id}"[^>]*>', html)
    assert found, f"no <{element} id={id}> in {html}"
    return found.group(0)


class TestFormField:
    def test_a_clean_field_has_its_label_help_and_limits_from_the_form(self) -> None:
        form = SampleForm(auto_id="invite-%s")
        html = render(
            '{% form_field form.email help="Stored in lower case." spellcheck="false" '
            'testid="invite-email" %}',
            form=form,
        )
        assert '<label class="label" for="invite-email">Email</label>' in html
        field = tag(html, "input", "invite-email")
        assert 'type="email"' in field and 'name="email"' in field
        assert 'required maxlength="254"' in field
        assert 'aria-describedby="invite-email-help"' in field
        assert 'spellcheck="false"' in field and 'data-testid="invite-email"' in field
        assert "aria-invalid" not in field
        assert '<p class="help" id="invite-email-help">Stored in lower case.</p>' in html
        assert "field-errors" not in html

    def test_an_invalid_field_points_at_its_errors_each_naming_the_field(self) -> None:
        form = SampleForm({"name": "", "email": "not-an-email"}, auto_id="invite-%s")
        html = render(
            '{% form_field form.name autofocus="clean" %}'
            '{% form_field form.email help="Stored in lower case." %}',
            form=form,
        )
        name = tag(html, "input", "invite-name")
        assert 'aria-invalid="true"' in name and 'aria-describedby="invite-name-errors"' in name
        assert "autofocus" not in name  # the first invalid field gets focus, not this
        email = tag(html, "input", "invite-email")
        assert 'aria-describedby="invite-email-help invite-email-errors"' in email
        assert 'value="not-an-email"' in email
        assert 'id="invite-name-errors"' in html and "Name: Give a name." in html
        assert "Email: Enter a valid email address." in html

    def test_autofocus_clean_only_while_the_form_has_no_errors(self) -> None:
        source = '{% form_field form.name autofocus="clean" %}'
        assert "autofocus" in tag(render(source, form=SampleForm()), "input", "id_name")
        always = render("{% form_field form.name autofocus=True %}", form=SampleForm({}))
        assert "autofocus" in tag(always, "input", "id_name")

    def test_a_choice_is_a_select_showing_the_default(self) -> None:
        html = render('{% form_field form.role help="Who they are." %}', form=SampleForm({}))
        select = tag(html, "select", "id_role")
        assert 'aria-describedby="id_role-help id_role-errors"' in select
        assert '<option value="member" selected>Member</option>' in html
        assert '<option value="owner">Owner</option>' in html

    def test_a_textarea_and_a_number(self) -> None:
        form = SampleForm(initial={"notes": "Line one", "pct": 0})
        html = render("{% form_field form.notes rows=4 %}{% form_field form.pct %}", form=form)
        assert 'rows="4"' in tag(html, "textarea", "id_notes")
        assert ">\nLine one</textarea>" in html
        pct = tag(html, "input", "id_pct")
        assert 'type="number"' in pct and 'min="0" max="100"' in pct and 'value="0"' in pct
        assert 'class="input tabular"' in pct

    def test_a_multiple_choice_is_a_fieldset_of_checkboxes(self) -> None:
        form = SampleForm({"plans": ["pro", "gold"]})
        html = render("{% form_field form.plans %}", form=form)
        assert '<legend class="label">Plans</legend>' in html
        fieldset = re.search(r"<fieldset\b[^>]*>", html)
        assert fieldset and 'aria-describedby="id_plans-errors"' in fieldset.group(0)
        pro = tag(html, "input", "id_plans-1")
        assert 'value="pro"' in pro and "checked" in pro and 'aria-invalid="true"' in pro
        assert "checked" not in tag(html, "input", "id_plans-0")
        assert "Plans: Select a valid choice. gold is not one of the available choices." in html


REASON = ConfirmField(name="reason", label="Reason (optional)", max_length=500, help="Kept.")


class TestConfirmField:
    def dialog(self, **extra: Any) -> str:
        return render(
            '{% confirm_dialog id="cr-reject-dialog" title="Reject?" text="It closes." '
            'confirm="Reject" url="/reject/" target="#detail" field=field %}',
            **extra,
        )

    def test_the_dialog_asks_for_the_text_and_counts_it(self) -> None:
        html = self.dialog(field=REASON)
        area = tag(html, "textarea", "cr-reject-dialog-reason")
        assert 'name="reason"' in area and 'maxlength="500"' in area
        assert 'data-char-count="cr-reject-dialog-reason-count"' in area
        assert 'aria-describedby="cr-reject-dialog-reason-help"' in area
        assert "autofocus" in area  # the text, not Cancel, takes focus
        assert "Kept. At most 500 characters." in html
        assert 'id="cr-reject-dialog-reason-count"' in html
        assert "data-dialog-close autofocus" not in html

    def test_without_a_field_the_dialog_is_as_before(self) -> None:
        html = self.dialog(field="")
        assert "<textarea" not in html
        assert "data-dialog-close autofocus" in html

    def test_a_refilled_field_keeps_the_text_and_names_the_error(self) -> None:
        html = self.dialog(field=REASON.refill("Too long", "at most 500 characters."))
        area = tag(html, "textarea", "cr-reject-dialog-reason")
        assert 'aria-invalid="true"' in area
        assert "cr-reject-dialog-reason-errors" in area
        assert ">\nToo long</textarea>" in html
        assert "Reason (optional): at most 500 characters." in html


@pytest.mark.django_db
def test_the_confirm_page_has_the_field_too(operator) -> None:
    request = RequestFactory().get("/reject/")
    request.user = operator
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    response = confirm_page(
        request,
        id="cr-reject-dialog",
        title="Reject?",
        text="It closes.",
        confirm="Reject",
        url="/reject/",
        cancel_url="/request/",
        field=REASON,
        status=400,
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="confirm-page"' in html
    assert 'name="reason"' in tag(html, "textarea", "cr-reject-dialog-reason")
    assert 'href="/request/">Cancel</a>' in html
