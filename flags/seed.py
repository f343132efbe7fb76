"""The platform's own flags, created on every migrate if missing and never overwritten,
so an operator's edits survive restarts and deploys."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

PLATFORM_FLAGS: dict[str, str] = {
    "jmap_native_v2": "Serve JMAP from Stalwart's native implementation instead of the proxy.",
    "gdpr_export_v2": "New GDPR data export: one archive of mail, files and identity data.",
    "new_billing_engine": "Invoice tenants through the new billing engine.",
    "saml_sso": "Let tenants sign in to Dezky with their own SAML identity provider.",
    "dmarc_reports": "Collect DMARC aggregate reports and show them to tenant admins.",
    "partner_branding": "Partners' logo and colours on their tenants' login and webmail.",
    "ocis_spaces_quota": "Enforce per-space storage quotas in oCIS.",
    "passkey_login": "Offer passkeys (WebAuthn) at sign-in.",
    "stalwart_spam_v2": "Stalwart's new spam classifier for inbound mail.",
    "audit_export": "Let tenant admins export their audit log.",
}


def seed_platform_flags(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Create the missing platform flags (off); return the keys created.

    A platform flag an operator deleted stays deleted: its key is retired.
    """
    from flags.models import Flag, RetiredFlagKey
    from flags.services import flag_create

    existing = set(Flag.objects.using(using).values_list("key", flat=True))
    existing |= set(RetiredFlagKey.objects.using(using).values_list("key", flat=True))
    created = []
    for key, description in PLATFORM_FLAGS.items():
        if key in existing:
            continue
        with transaction.atomic(using=using):
            flag_create(key=key, description=description, actor=None, source="seed")
        created.append(key)
    return created


def seed_flags_after_migrate(*, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    tables = connections[using].introspection.table_names()
    # Migrating backwards or a partial plan can leave either table missing.
    if {"flags_flag", "flags_retiredflagkey", "audit_auditevent"} <= set(tables):
        seed_platform_flags(using=using)
