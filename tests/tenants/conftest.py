from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def fakes(fake_authentik: Any, fake_stalwart: Any, fake_ocis: Any) -> Any:
    class Upstreams:
        authentik = fake_authentik
        stalwart = fake_stalwart
        ocis = fake_ocis

    return Upstreams
