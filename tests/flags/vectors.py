"""The shared flag vectors, loaded once for the engine and the API tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flags.engine import FlagSnapshot, Scope, TenantContext

# A copy of the platform's shared contract, kept in the repository so a clean
# clone tests against it.
VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "spec" / "flag-vectors.json").read_text()
)
FLAGS = [
    FlagSnapshot(key=f["key"], state=f["state"], pct=f["pct"], scope=Scope.from_lists(f["scope"]))
    for f in VECTORS["flags"]
]
CASES = VECTORS["cases"]
BUCKETS = VECTORS["buckets"]


def context(case: dict[str, Any]) -> TenantContext:
    c = case["context"]
    return TenantContext(
        c["tenant_id"], c["tenant_slug"], c["plan"], c["partner_slug"], c["environment"]
    )
