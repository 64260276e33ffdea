from typing import Any

import factory
from django.utils import timezone

from users.models import User

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    """A user created through the real sign-up service (tree position, first code).

    Call `UserFactory.create(...)`: factory-boy types `create()` as returning a User, but
    not the `UserFactory(...)` shorthand, which mypy sees as a factory instance."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Ivan"
    last_name = "Petrov"

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        from users.services.accounts import user_create

        kwargs.setdefault("password", DEFAULT_PASSWORD)
        kwargs.setdefault("now", timezone.now())
        return user_create(**kwargs)
