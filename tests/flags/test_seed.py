from __future__ import annotations

import pytest
from django.core.management import call_command

from flags import services
from flags.models import Flag
from flags.seed import PLATFORM_FLAGS, seed_platform_flags
from tests.audit_helpers import watch_audit

pytestmark = pytest.mark.django_db


def test_migrate_has_seeded_the_ten_platform_flags_off() -> None:
    flags = Flag.objects.filter(key__in=PLATFORM_FLAGS)
    assert len(PLATFORM_FLAGS) == 10
    assert flags.count() == 10
    assert {f.state for f in flags} == {"off"}
    assert {"jmap_native_v2", "gdpr_export_v2", "new_billing_engine"} <= set(PLATFORM_FLAGS)


def test_seeding_again_never_overwrites_an_operators_edit() -> None:
    services.flag_update(key="gdpr_export_v2", state="rollout", pct=25, actor=None)
    with watch_audit() as log:
        assert seed_platform_flags() == []
        call_command("migrate", verbosity=0)  # the post-migrate seed
    log.none()
    flag = Flag.objects.get(key="gdpr_export_v2")
    assert (flag.state, flag.pct, flag.version) == ("rollout", 25, 2)


def test_a_missing_platform_flag_is_created_with_a_system_audit_event() -> None:
    Flag.objects.filter(key="saml_sso").delete()  # as on a database from before the flag
    with watch_audit() as log:
        assert seed_platform_flags() == ["saml_sso"]
    assert log.one("flag.created", actor=None).metadata["source"] == "seed"


def test_a_platform_flag_an_operator_deleted_stays_deleted() -> None:
    services.flag_delete(key="saml_sso", actor=None)
    assert seed_platform_flags() == []
    assert not Flag.objects.filter(key="saml_sso").exists()
