from typing import Any

import factory
from django.utils import timezone

from codes.models import ReferralCode
from tests.users.factories import UserFactory


class ReferralCodeFactory(factory.django.DjangoModelFactory[ReferralCode]):
    """An owner's new active code, issued through codes.services.code_issue."""

    class Meta:
        model = ReferralCode

    owner = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class: type[ReferralCode], *args: Any, **kwargs: Any) -> ReferralCode:
        from codes.services import code_issue

        kwargs.setdefault("now", timezone.now())
        if "code" in kwargs:
            kwargs["value"] = kwargs.pop("code")
        return code_issue(**kwargs)
