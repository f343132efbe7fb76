import factory

from flags.models import Flag


class FlagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flag

    key = factory.Sequence(lambda n: f"sample_flag_{n}")
    description = "A flag made by a test"
