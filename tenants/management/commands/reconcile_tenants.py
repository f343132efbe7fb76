from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from tenants.models import Tenant, TenantStatus
from tenants.reconcile import tenant_reconcile


class Command(BaseCommand):
    help = "Reconcile the provisioning of tenants (every integration, idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slugs", nargs="*", help="Tenants to reconcile.")
        parser.add_argument("--all", action="store_true", help="Every tenant but deleted ones.")

    def handle(self, *args: Any, slugs: list[str], all: bool, **options: Any) -> None:
        if bool(slugs) == all:
            raise CommandError("Name tenant slugs, or use --all (not both).")
        tenants = Tenant.objects.exclude(status=TenantStatus.DELETED).order_by("slug")
        if slugs:
            tenants = tenants.filter(slug__in=slugs)
            missing = set(slugs) - set(tenants.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"Unknown or deleted tenants: {', '.join(sorted(missing))}")
        total, failures = tenants.count(), 0
        for done, tenant in enumerate(tenants.iterator(), start=1):
            try:
                outcomes = tenant_reconcile(tenant=tenant, actor=None)
                errors = [o for o in outcomes if o.state == "error"]
            except ApplicationError as exc:
                errors = [exc.message]
            failures += bool(errors)
            self._progress(done, total, tenant.slug, errors)
        self.stdout.write("")
        summary = f"Reconciled {total} tenants, {failures} with errors."
        self.stdout.write(self.style.WARNING(summary) if failures else self.style.SUCCESS(summary))

    def _progress(self, done: int, total: int, slug: str, errors: list) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "." * (width - filled)
        line = f"\r[{bar}] {done}/{total} {slug[:40]:<40}"
        self.stdout.write(line, ending="")
        for error in errors:
            message = getattr(error, "error", None) or str(error)
            integration = getattr(error, "integration", "reconcile")
            self.stdout.write(f"\n  {slug}: {integration}: {message}")
        if hasattr(sys.stdout, "flush"):
            self.stdout.flush()
