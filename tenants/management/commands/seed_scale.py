"""Fill the database with many invented tenants and users, to measure the pages at
size (bench/pages.py). Bulk inserts, no audit events: this is bench data, never
for a database that matters."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from operators.models import User
from tenants.models import (
    Integration,
    Membership,
    Partner,
    Plan,
    ProvisioningState,
    ProvisioningStatus,
    Tenant,
    TenantStatus,
)

STATUS_WEIGHTS = [(TenantStatus.ACTIVE, 80), (TenantStatus.PENDING, 8),
                  (TenantStatus.SUSPENDED, 8), (TenantStatus.DELETED, 4)]  # fmt: skip


class Command(BaseCommand):
    help = "Create many sample tenants, partners and users (bench data only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenants", type=int, default=10_000)
        parser.add_argument("--users", type=int, default=50_000)
        parser.add_argument("--partners", type=int, default=200)
        parser.add_argument("--seed", type=int, default=6)

    @transaction.atomic
    def handle(self, *args: Any, tenants: int, users: int, partners: int, seed: int,
               **options: Any) -> None:  # fmt: skip
        rng = random.Random(seed)
        now = timezone.now()
        partner_rows = Partner.objects.bulk_create(
            Partner(slug=f"bench-partner-{n}", name=f"Bench Partner {n}") for n in range(partners)
        )
        statuses = [s for s, _ in STATUS_WEIGHTS]
        weights = [w for _, w in STATUS_WEIGHTS]
        tenant_rows = []
        for n in range(tenants):
            status = rng.choices(statuses, weights)[0]
            tenant_rows.append(
                Tenant(
                    slug=f"bench-{n}", name=f"Bench Company {n}", status=status,
                    plan=rng.choice(Plan.values), domains=[f"bench-{n}.example"],
                    partner=rng.choice(partner_rows) if rng.random() < 0.6 else None,
                    billing_email=f"billing@bench-{n}.example",
                    deleted_at=now if status == TenantStatus.DELETED else None,
                )
            )  # fmt: skip
        tenant_rows = Tenant.objects.bulk_create(tenant_rows, batch_size=2000)
        # Spread creation over two years, so "recent" and "pending > 7 days" mean something.
        for tenant in tenant_rows:
            tenant.created_at = now - timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
        Tenant.objects.bulk_update(tenant_rows, ["created_at"], batch_size=2000)
        states = [ProvisioningStatus.READY] * 18 + [ProvisioningStatus.ERROR]
        ProvisioningState.objects.bulk_create(
            (
                ProvisioningState(
                    tenant=t,
                    integration=i,
                    state=rng.choice(states),
                    last_error="Sample upstream error" if rng.random() < 0.01 else "",
                )
                for t in tenant_rows
                for i in Integration.values
            ),
            batch_size=5000,
        )
        user_rows = User.objects.bulk_create(
            (
                User(
                    email=f"user{n}@bench.example",
                    name=f"Bench User {n}",
                    last_login=now - timedelta(hours=rng.randrange(0, 5000))
                    if rng.random() < 0.8
                    else None,
                )
                for n in range(users)
            ),
            batch_size=5000,
        )
        Membership.objects.bulk_create(
            (Membership(tenant=tenant_rows[n % len(tenant_rows)], user=user)
             for n, user in enumerate(user_rows)),
            batch_size=5000,
        )  # fmt: skip
        self.stdout.write(
            f"Created {partners} partners, {tenants} tenants, {users} users and memberships."
        )
