"""The codes app's database constraints: each one refuses the row it exists to refuse."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.db import IntegrityError, transaction

from codes.models import ReferralCode, RefusalDay
from tests.codes.helpers import active_code
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db


class TestReferralCodeConstraints:
    def test_an_owner_has_one_active_code_at_most(self, user: User) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            ReferralCode.objects.create(owner=user, code="SECONDACTIVE")

    def test_an_owner_may_keep_many_inactive_codes(self, user: User) -> None:
        ReferralCode.objects.create(owner=user, code="OLDONE", is_active=False)
        ReferralCode.objects.create(owner=user, code="OLDTWO", is_active=False)

        assert ReferralCode.objects.filter(owner=user).count() == 3

    def test_a_code_string_is_unique(self, user: User) -> None:
        taken = active_code(UserFactory.create()).code

        with pytest.raises(IntegrityError), transaction.atomic():
            ReferralCode.objects.create(owner=user, code=taken, is_active=False)

    def test_a_code_is_stored_upper_cased(self, user: User) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            ReferralCode.objects.create(owner=user, code="lower", is_active=False)

    def test_max_uses_is_at_least_one(self, user: User) -> None:
        code = active_code(user)

        with pytest.raises(IntegrityError), transaction.atomic():
            ReferralCode.objects.filter(pk=code.pk).update(max_uses=0)

    def test_uses_cannot_pass_max_uses(self, user: User) -> None:
        code = active_code(user)

        with pytest.raises(IntegrityError), transaction.atomic():
            ReferralCode.objects.filter(pk=code.pk).update(max_uses=1, uses=2)

    def test_a_deleted_code_is_inactive(self, user: User, now: datetime) -> None:
        code = active_code(user)

        with pytest.raises(IntegrityError), transaction.atomic():
            ReferralCode.objects.filter(pk=code.pk).update(deleted_at=now)

    @pytest.mark.parametrize("field", ["uses", "clicks"])
    def test_counters_are_not_negative(self, user: User, field: str) -> None:
        code = active_code(user)

        with pytest.raises(IntegrityError), transaction.atomic():
            ReferralCode.objects.filter(pk=code.pk).update(**{field: -1})


class TestRefusalDayConstraints:
    def test_one_row_per_day_and_reason(self) -> None:
        RefusalDay.objects.create(day=date(2026, 3, 1), reason="invalid", count=1)

        with pytest.raises(IntegrityError), transaction.atomic():
            RefusalDay.objects.create(day=date(2026, 3, 1), reason="invalid", count=1)

    def test_the_count_is_not_negative(self) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            RefusalDay.objects.create(day=date(2026, 3, 1), reason="invalid", count=-1)
