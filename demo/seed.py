"""Demo data for a fresh console: invented partners, tenants and users, written through
the services so the audit log holds a real history of how they came to be.

Idempotent: anything that exists already is left as it is.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from flags.seed import seed_platform_flags
from operators import services as operator_services
from operators.models import User
from tenants import services as tenant_services
from tenants.models import (
    Integration,
    MemberRole,
    Partner,
    Plan,
    ProvisioningState,
    ProvisioningStatus,
    Tenant,
    TenantStatus,
)

DEMO_OPERATOR_EMAIL = "operator@dezky.local"
DEMO_OPERATOR_NAME = "Demo Operator"

PARTNERS = (
    ("nordic-it", "Nordic IT Partners"),
    ("baltic-cloud", "Baltic Cloud Reseller"),
    ("alpine-hosting", "Alpine Hosting Co"),
)

# (slug, name); every company here is invented.
TENANTS = (
    ("acme", "Acme Logistics"),
    ("globex", "Globex Engineering"),
    ("initrode", "Initrode Printing"),
    ("umbrella-bakery", "Umbrella Bakery"),
    ("fjord-freight", "Fjord Freight"),
    ("lumen-dental", "Lumen Dental Clinic"),
    ("kestrel-law", "Kestrel Law Office"),
    ("northwind-tea", "Northwind Tea House"),
    ("birch-architects", "Birch Architects"),
    ("copperleaf", "Copperleaf Accounting"),
    ("harbor-yoga", "Harbor Yoga Studio"),
    ("pinecone-media", "Pinecone Media"),
    ("quartz-labs", "Quartz Labs"),
    ("riverbend-vets", "Riverbend Veterinary"),
    ("saffron-kitchen", "Saffron Kitchen"),
    ("tundra-outdoor", "Tundra Outdoor Gear"),
    ("velvet-events", "Velvet Events"),
    ("willow-school", "Willow Montessori School"),
    ("yardley-builders", "Yardley Builders"),
    ("zephyr-travel", "Zephyr Travel"),
    ("amber-optics", "Amber Optics"),
    ("bluefin-marine", "Bluefin Marine Supply"),
    ("cedar-clinic", "Cedar Physiotherapy"),
    ("delta-print", "Delta Print Shop"),
    ("ember-coffee", "Ember Coffee Roasters"),
    ("flint-security", "Flint Security Services"),
    ("granite-legal", "Granite Legal"),
    ("hazel-florist", "Hazel Florist"),
    ("iris-studio", "Iris Design Studio"),
    ("juniper-dental", "Juniper Dental"),
    ("kite-robotics", "Kite Robotics"),
    ("lark-publishing", "Lark Publishing"),
    ("maple-realty", "Maple Realty"),
    ("nimbus-analytics", "Nimbus Analytics"),
    ("onyx-fitness", "Onyx Fitness"),
    ("pebble-toys", "Pebble Toys"),
    ("quill-translations", "Quill Translations"),
    ("rowan-bikes", "Rowan Bikes"),
    ("sable-audio", "Sable Audio"),
    ("thistle-farm", "Thistle Farm Shop"),
)

FIRST_NAMES = (
    "Ava", "Noah", "Liv", "Emil", "Saga", "Oskar", "Maja", "Elias", "Ines", "Jonas",
    "Freja", "Aron", "Lea", "Milo", "Nora", "Teo",
)  # fmt: skip
LAST_NAMES = (
    "Lindqvist", "Berglund", "Halvorsen", "Kask", "Moreau", "Varga", "Novak", "Rask",
    "Sandberg", "Tamm", "Ilves", "Dahl", "Falk", "Hedlund", "Koch",
)  # fmt: skip


@dataclass
class DemoResult:
    operator_created: bool = False
    operator_password: str | None = None
    created: dict[str, int] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1


def seed_demo() -> DemoResult:
    """Create the demo operator, partners, tenants, users and memberships if missing."""
    result = DemoResult()
    rng = random.Random(20261125)  # the same demo on every machine
    seed_platform_flags()
    operator = _ensure_operator(result)
    partners = _ensure_partners(operator, result)
    tenants = _ensure_tenants(operator, partners, rng, result)
    _ensure_users(operator, tenants, rng, result)
    return result


def demo_operator_set_password() -> str:
    """Give the demo operator a new password (for a developer who lost the printed one)."""
    operator = User.objects.get(email=DEMO_OPERATOR_EMAIL)
    password = _new_password()
    operator_services.user_set_password(user=operator, password=password, actor=None, ip=None)
    return password


def _new_password() -> str:
    return "demo-" + secrets.token_urlsafe(12)


def _ensure_operator(result: DemoResult) -> User:
    existing = User.objects.filter(email=DEMO_OPERATOR_EMAIL).first()
    if existing:
        return existing
    password = _new_password()
    operator = operator_services.user_create(
        email=DEMO_OPERATOR_EMAIL,
        name=DEMO_OPERATOR_NAME,
        password=password,
        platform_admin=True,
        is_staff=True,
        actor=None,
    )
    # Staff who can use the whole Django admin, as the README promises the demo login.
    operator_services.user_update(user=operator, is_superuser=True, actor=None)
    result.operator_created = True
    result.operator_password = password
    return operator


def _ensure_partners(actor: User, result: DemoResult) -> list[Partner]:
    partners = []
    for slug, name in PARTNERS:
        partner = Partner.objects.filter(slug=slug).first()
        if partner is None:
            partner = tenant_services.partner_create(slug=slug, name=name, actor=actor)
            result.count("partners")
        partners.append(partner)
    return partners


def _ensure_tenants(
    actor: User, partners: list[Partner], rng: random.Random, result: DemoResult
) -> list[Tenant]:
    statuses = (
        [TenantStatus.ACTIVE] * 28
        + [TenantStatus.PENDING] * 5
        + [TenantStatus.SUSPENDED] * 5
        + [TenantStatus.DELETED] * 2
    )
    plans = [Plan.STARTER] * 18 + [Plan.BUSINESS] * 15 + [Plan.ENTERPRISE] * 7
    now = timezone.now()
    tenants = []
    for index, (slug, name) in enumerate(TENANTS):
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is not None:
            tenants.append(tenant)
            continue
        status = statuses[index % len(statuses)]
        partner = partners[index % 3] if index % 2 else None
        with transaction.atomic():
            tenant = tenant_services.tenant_create(
                slug=slug,
                name=name,
                plan=plans[(index * 7) % len(plans)],
                domains=[f"{slug}.example", f"mail.{slug}.example"][: 1 + index % 2],
                partner=partner,
                billing_email=f"billing@{slug}.example",
                status=TenantStatus.PENDING if status == TenantStatus.DELETED else status,
                actor=actor,
            )
            # Spread creation over the past year so lists and "pending for days" mean something.
            Tenant.objects.filter(pk=tenant.pk).update(
                created_at=now - timedelta(days=rng.randint(1, 365), minutes=index)
            )
            _demo_provisioning(tenant, status, rng)
            if status == TenantStatus.DELETED:
                tenant_services.tenant_soft_delete(tenant=tenant, actor=actor)
        result.count("tenants")
        tenants.append(tenant)
    return tenants


def _demo_provisioning(tenant: Tenant, status: str, rng: random.Random) -> None:
    """Provisioning states as reconcile would have left them (reconcile has not run here)."""
    for integration in Integration.values:
        if status == TenantStatus.PENDING:
            state, error = ProvisioningStatus.PENDING, ""
        elif integration == Integration.OCIS and rng.random() < 0.2:
            state, error = ProvisioningStatus.NOT_CONFIGURED, ""
        elif rng.random() < 0.08:
            state, error = ProvisioningStatus.ERROR, "Upstream answered 502 Bad Gateway"
        else:
            state, error = ProvisioningStatus.READY, ""
        ProvisioningState.objects.filter(tenant=tenant, integration=integration).update(
            state=state, last_error=error
        )


def _ensure_users(
    actor: User, tenants: list[Tenant], rng: random.Random, result: DemoResult
) -> None:
    deleted = set(Tenant.objects.filter(status=TenantStatus.DELETED).values_list("slug", flat=True))
    live = [t for t in tenants if t.slug not in deleted]
    for index in range(60):
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index * 7) % len(LAST_NAMES)]
        home = live[index % len(live)]
        email = f"{first}.{last}.{index}@{home.slug}.example".lower()
        user = User.objects.filter(email=email).first()
        if user is None:
            user = operator_services.user_create(email=email, name=f"{first} {last}", actor=actor)
            result.count("users")
        role = MemberRole.OWNER if index < len(live) else MemberRole.MEMBER
        tenant_services.membership_set(tenant=home, user=user, role=role, actor=actor)
        if index % 5 == 0:  # some people work for two tenants
            other = live[(index * 3 + 1) % len(live)]
            if other != home:
                tenant_services.membership_set(tenant=other, user=user, actor=actor)
