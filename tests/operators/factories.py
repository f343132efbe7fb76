import factory

from operators.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@tenant.example")
    name = factory.Sequence(lambda n: f"Sample User {n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def persist_password(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save(update_fields=["password"])


class OperatorFactory(UserFactory):
    email = factory.Sequence(lambda n: f"operator{n}@dezky.example")
    platform_admin = True


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@dezky.example")
    is_staff = True
    is_superuser = True
