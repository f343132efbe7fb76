"""`manage.py probe_infrastructure`: one line per component, exit 1 when a configured
component is down."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from monitor.models import ProbeResult
from tests.fakes.server import FakeServer
from tests.fakes.stalwart import FakeStalwart

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[int, list[str], str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("probe_infrastructure", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit:
        code = int(exit.code or 0)
    return code, out.getvalue().splitlines(), err.getvalue()


def test_all_up_prints_a_line_per_component_and_exits_0() -> None:
    code, lines, _ = _run()
    assert code == 0
    assert [line.split()[0] for line in lines] == [
        "database", "cache", "authentik", "stalwart", "ocis",
    ]  # fmt: skip
    assert lines[0].split()[1] == "up" and lines[0].endswith(" ms")
    assert lines[3] == "stalwart   not configured (set STALWART_URL and STALWART_TOKEN)"
    assert ProbeResult.objects.count() == 2


def test_a_configured_component_down_exits_1(settings: Any) -> None:
    with FakeServer(FakeStalwart()) as fake:
        settings.STALWART_URL, settings.STALWART_TOKEN = fake.url, fake.token
    code, lines, err = _run("--deadline", "1")
    assert code == 1
    assert lines[3].startswith("stalwart   DOWN")
    assert lines[3].endswith("cannot be reached: Connection refused.")
    assert err.strip() == "Down: Stalwart (mail)."


def test_simulated_components_are_said_to_be_so(settings: Any) -> None:
    settings.DEMO_INTEGRATIONS = True
    settings.OCIS_URL, settings.OCIS_TOKEN = "http://127.0.0.1:9", "demo"
    code, lines, _ = _run()
    assert code == 0
    assert lines[4] == "ocis       simulated (demo): not probed"
    # The demo with no URLs at all (what `make run` starts): simulated, not "not configured".
    assert lines[3] == "stalwart   simulated (demo): not probed"


def test_a_silly_deadline_is_refused() -> None:
    code, _, err = _run("--deadline", "0")
    assert code == 2 and "--deadline" in err
