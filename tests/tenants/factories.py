import factory

from tenants.models import Membership, Partner, Plan, Tenant, TenantStatus


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"partner-{n}")
    name = factory.Sequence(lambda n: f"Sample Partner {n}")


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.Sequence(lambda n: f"Sample Tenant {n}")
    status = TenantStatus.ACTIVE
    plan = Plan.STARTER
    domains = factory.LazyAttribute(lambda t: [f"{t.slug}.example"])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory("tests.operators.factories.UserFactory")
