from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dezky.navigation import entry_for
from operators.permissions import operator_required


def placeholder_view(url_name: str):
    """A labelled page for a sidebar entry whose screen is not built yet."""

    @operator_required
    def view(request: HttpRequest) -> HttpResponse:
        entry = entry_for(url_name)
        return render(request, "dezky/placeholder.html", {"entry": entry})

    view.__name__ = f"placeholder_{url_name.replace(':', '_')}"
    return view
