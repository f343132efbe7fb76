"""Demo data for a fresh console: invented partners, tenants and users, written through
the services so the audit log holds a real history of how they came to be.

Idempotent whatever operators did to the demo since: a partner or tenant is found by
its slug (deleted ones included), a user by an email that depends only on this file,
and anything that exists is left as it is (never re-created, re-added or reset).

Provisioning states come from the real reconcile, never from here: with
`DEMO_INTEGRATIONS=true` new tenants are reconciled through the simulated
integrations (tenants/provisioning/simulated.py), so a later Reconcile gives the
same states; without it they stay pending, as a tenant nobody reconciled is.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from flags.seed import seed_platform_flags
from operators import services as operator_services
from operators.models import User
from tenants import services as tenant_services
from tenants.models import MemberRole, Partner, Plan, Tenant, TenantStatus
from tenants.provisioning import provisioners
from tenants.reconcile import tenant_reconcile

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


# What each tenant in TENANTS is seeded as (by its position): status, then plan.
STATUSES = (
    [TenantStatus.ACTIVE] * 28
    + [TenantStatus.PENDING] * 5
    + [TenantStatus.SUSPENDED] * 5
    + [TenantStatus.DELETED] * 2
)
PLANS = [Plan.STARTER] * 18 + [Plan.BUSINESS] * 15 + [Plan.ENTERPRISE] * 7
DEMO_USERS = 60


def planned_status(index: int) -> str:
    return STATUSES[index % len(STATUSES)]


# TRICKY: users' home tenants come from this file, never from the database, so
# the emails (the users' keys) stay the same whatever happened to the tenants since.
HOME_SLUGS = tuple(
    slug for index, (slug, _) in enumerate(TENANTS) if planned_status(index) != TenantStatus.DELETED
)


@dataclass(frozen=True)
class DemoUser:
    index: int
    email: str
    name: str
    home: str  # tenant slug
    role: str
    also: str | None  # a second tenant's slug, for some


def demo_users() -> list[DemoUser]:
    """The demo's people, every one invented; the same list on every run."""
    people = []
    for index in range(DEMO_USERS):
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index * 7) % len(LAST_NAMES)]
        home = HOME_SLUGS[index % len(HOME_SLUGS)]
        other = HOME_SLUGS[(index * 3 + 1) % len(HOME_SLUGS)]
        people.append(
            DemoUser(
                index=index,
                email=f"{first}.{last}.{index}@{home}.example".lower(),
                name=f"{first} {last}",
                home=home,
                role=MemberRole.OWNER if index < len(HOME_SLUGS) else MemberRole.MEMBER,
                # Some people work for two tenants.
                also=other if index % 5 == 0 and other != home else None,
            )
        )
    return people


@dataclass
class DemoResult:
    operator_created: bool = False
    operator_password: str | None = None
    created: dict[str, int] = field(default_factory=dict)
    reconciled: int = 0
    integrations_simulated: bool = False

    def count(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1


def seed_demo() -> DemoResult:
    """Create the demo operator, partners, tenants, users and memberships if missing."""
    result = DemoResult(integrations_simulated=settings.DEMO_INTEGRATIONS)
    seed_platform_flags()
    operator = _ensure_operator(result)
    partners = _ensure_partners(operator, result)
    _ensure_tenants(operator, partners, result)
    _ensure_users(operator, result)
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


def _ensure_tenants(actor: User, partners: list[Partner], result: DemoResult) -> None:
    # Every status, deleted included: a slug that was ever seeded is never seeded again.
    existing = set(Tenant.objects.values_list("slug", flat=True))
    now = timezone.now()
    for index, (slug, name) in enumerate(TENANTS):
        if slug in existing:
            continue
        status = planned_status(index)
        with transaction.atomic():
            tenant = tenant_services.tenant_create(
                slug=slug,
                name=name,
                plan=PLANS[(index * 7) % len(PLANS)],
                domains=[f"{slug}.example", f"mail.{slug}.example"][: 1 + index % 2],
                partner=partners[index % 3] if index % 2 else None,
                billing_email=f"billing@{slug}.example",
                status=_created_status(status),
                actor=actor,
            )
            # Spread creation over the past year so lists and "pending for days" mean something.
            Tenant.objects.filter(pk=tenant.pk).update(created_at=_created_at(slug, index, now))
            # A pending tenant is one nobody has reconciled yet, so it is left as it is.
            if result.integrations_simulated and status != TenantStatus.PENDING:
                _reconcile_simulated(tenant, actor)
                result.reconciled += 1
            # Through the services, so the audit log says when each began (the
            # overview's "Since" reads it).
            if status == TenantStatus.SUSPENDED:
                tenant_services.tenant_suspend(tenant=tenant, actor=actor)
            if status == TenantStatus.DELETED:
                tenant_services.tenant_soft_delete(tenant=tenant, actor=actor)
        result.count("tenants")


def _created_status(planned: str) -> str:
    """What a tenant is created as: a suspended one is suspended afterwards, a deleted
    one deleted afterwards, as an operator would have done it."""
    afterwards: dict[str, str] = {
        TenantStatus.SUSPENDED: TenantStatus.ACTIVE,
        TenantStatus.DELETED: TenantStatus.PENDING,
    }
    return afterwards.get(planned, planned)


def _created_at(slug: str, index: int, now: datetime) -> datetime:
    rng = random.Random(f"demo-created:{slug}")  # the same demo on every machine
    return now - timedelta(days=rng.randint(1, 365), minutes=index)


def _reconcile_simulated(tenant: Tenant, actor: User) -> None:
    """The real reconcile, through the simulated integrations only.

    TRICKY: this runs inside the tenant's seeding transaction, so a tenant and its
    provisioning land together or not at all. That is only right because nothing
    is called over the network; a real integration here is refused.
    """
    if not all(provisioner.simulated for provisioner in provisioners()):
        raise RuntimeError("The demo reconciles only through simulated integrations.")
    tenant_reconcile(tenant=tenant, actor=actor)


def _ensure_users(actor: User, result: DemoResult) -> None:
    people = demo_users()
    existing = set(
        User.objects.filter(email__in=[p.email for p in people]).values_list("email", flat=True)
    )
    tenants = {t.slug: t for t in Tenant.objects.filter(slug__in=HOME_SLUGS)}
    for person in people:
        if person.email in existing:
            continue  # deactivated, moved or re-roled since: the operators' call, not ours
        with transaction.atomic():
            user = operator_services.user_create(email=person.email, name=person.name, actor=actor)
            home = tenants[person.home]
            tenant_services.membership_set(tenant=home, user=user, role=person.role, actor=actor)
            if person.also:
                tenant_services.membership_set(tenant=tenants[person.also], user=user, actor=actor)
        result.count("users")
