from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from common.formats import format_datetime
from referral.selectors import DirectReferrals, referral_list_direct, referral_list_direct_queryset
from referral.serializers import ReferralOutputSerializer
from tests.helpers import invite
from tests.users.factories import UserFactory
from users.models import User


@pytest.mark.django_db
class TestDirectReferrals:
    """The fixed statements must read exactly what the ORM queryset reads."""

    @pytest.fixture
    def referrer(self, now: datetime) -> User:
        referrer = UserFactory.create()
        same_instant = now - timedelta(days=1)
        for n in range(7):
            # Ties on date_joined are ordered by id, newest first.
            invite(referrer, now=same_instant if n % 2 else now - timedelta(minutes=n))
        invite(
            referrer, username=None, email=None, phone="+79990001122", first_name="Ёжик", now=now
        )
        without_code = invite(referrer, now=now - timedelta(hours=5))
        User.objects.filter(pk=without_code.pk).update(referred_with_code=None)
        invite(UserFactory.create())  # someone else's referral
        return referrer

    def test_counts_and_pages_as_the_queryset(self, referrer: User) -> None:
        fixed, orm = DirectReferrals(referrer), referral_list_direct_queryset(user=referrer)

        assert fixed.count() == len(fixed) == orm.count() == 9
        for start, stop in [(0, 4), (4, 8), (8, 12), (12, 16)]:
            rendered = ReferralOutputSerializer(fixed[start:stop], many=True).data
            expected = ReferralOutputSerializer(orm[start:stop], many=True).data
            assert rendered == expected, (start, stop)
        assert len(fixed[0:4]) == 4

    def test_reads_uuid_and_date_joined_as_the_api_writes_them(self, referrer: User) -> None:
        rows = DirectReferrals(referrer)[0:20]
        expected = list(referral_list_direct_queryset(user=referrer))

        assert [row["uuid"] for row in rows] == [str(row["uuid"]) for row in expected]
        assert [row["date_joined"] for row in rows] == [
            format_datetime(row["date_joined"]) for row in expected
        ]
        assert rows[0].keys() == expected[0].keys()

    def test_refuses_anything_but_a_bounded_slice(self, referrer: User) -> None:
        with pytest.raises(TypeError):
            DirectReferrals(referrer)[3]  # type: ignore[index]
        with pytest.raises(TypeError):
            DirectReferrals(referrer)[2:]

    def test_is_what_the_list_reads_without_a_search(self, referrer: User) -> None:
        assert isinstance(referral_list_direct(user=referrer), DirectReferrals)
        assert isinstance(referral_list_direct(user=referrer, search=""), DirectReferrals)
        assert referral_list_direct(user=referrer, search="Ёжик").count() == 1
