"""A sample console page built the one way (responder, list helper, components), for
the console layer's own tests. Served only by tests/console/test_responder.py."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from console.lists import Filter, ListSpec, ListState, Sort
from console.responder import Notice, respond
from core.errors import ApplicationError, NotFound

ITEMS = [f"sample-{n:03d}" for n in range(120)]
SPEC = ListSpec(
    sorts=(Sort("name", "Name", ("name",)),),
    filters=(Filter("kind", "Kind", (("", "All"), ("even", "Even"))),),
)


def sample_list(request: HttpRequest) -> HttpResponse:
    state = ListState.from_request(request, SPEC)
    items = [i for i in ITEMS if state.q in i]
    if state.filter("kind") == "even":
        items = [i for i in items if int(i[-3:]) % 2 == 0]
    items.sort(reverse=state.descending)
    counts = {"": len(items), "even": sum(1 for i in items if int(i[-3:]) % 2 == 0)}
    context = {
        "state": state,
        "page": state.paginate(items),
        "chips": state.chips("kind", (("", "All"), ("even", "Even")), counts),
    }
    notice = Notice("success", "Saved the sample.") if request.GET.get("saved") else None
    return respond(request, "sample/list.html", context, partial="results", notice=notice)


def upstream_failed(request: HttpRequest) -> HttpResponse:
    notice = Notice("danger", "The sample upstream failed.")
    return respond(
        request, "console/refused.html", {"title": "Failed", "notice": notice}, status=502
    )


def refused(request: HttpRequest) -> HttpResponse:
    raise ApplicationError("Samples cannot be refused twice.")


def gone(request: HttpRequest) -> HttpResponse:
    raise NotFound("No such sample.")


urlpatterns = [
    path("samples/", sample_list, name="samples"),
    path("samples/refused/", refused, name="refused"),
    path("samples/upstream/", upstream_failed, name="upstream"),
    path("samples/gone/", gone, name="gone"),
    path("", include("dezky.urls")),
]
