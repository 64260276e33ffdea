from __future__ import annotations

from datetime import datetime
from uuid import UUID

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings
from django.utils import timezone as django_timezone

from codes.models import ReferralCode
from common.db import datetime_text_sql, select_rows, uuid_text_sql
from common.formats import format_datetime
from tests.common.helpers import MOMENTS
from tests.users.factories import UserFactory
from users.models import User


@pytest.mark.django_db
class TestTextSql:
    """The database renders UUIDs and datetimes exactly as Python would, on either backend."""

    def _rendered(self, user: User) -> tuple[str | None, str | None, str | None]:
        uuid_sql = uuid_text_sql("account.uuid", connection.vendor)
        referrer_sql = uuid_text_sql("referrer.uuid", connection.vendor)
        date_sql = datetime_text_sql("account.date_joined", connection.vendor)
        (row,) = select_rows(
            f"SELECT {uuid_sql}, {referrer_sql}, {date_sql} FROM users_user account"
            " LEFT JOIN users_user referrer ON referrer.id = account.referred_by_id"
            " WHERE account.id = %s",
            [user.pk],
            [],
        )
        return row

    @pytest.mark.parametrize("moment", MOMENTS)
    def test_renders_as_python(self, moment: datetime) -> None:
        user = UserFactory.create(now=moment)
        User.objects.filter(pk=user.pk).update(
            uuid=UUID("0a1b2c3d-4e5f-4a6b-8c9d-0e1f2a3b4c5d"), date_joined=moment
        )
        user.refresh_from_db()

        assert self._rendered(user) == (
            "0a1b2c3d-4e5f-4a6b-8c9d-0e1f2a3b4c5d",
            None,
            format_datetime(user.date_joined),
        )

    def test_renders_a_joined_uuid(self) -> None:
        referrer = UserFactory.create()
        user = UserFactory.create(referral_code=ReferralCode.objects.get(owner=referrer).code)

        assert self._rendered(user)[1] == str(referrer.uuid)

    def test_renders_null_as_null(self) -> None:
        date_sql = datetime_text_sql("NULL", connection.vendor)
        assert select_rows(f"SELECT {date_sql}", [], []) == [(None,)]

    @pytest.mark.parametrize("output_format", ["%Y-%m-%dT%H:%M:%S.%f%z", "%d 'of' %m"])
    def test_refuses_a_format_it_cannot_render(self, output_format: str) -> None:
        with (
            override_settings(REST_FRAMEWORK={"DATETIME_FORMAT": output_format}),
            pytest.raises(ImproperlyConfigured),
        ):
            datetime_text_sql("date_joined", connection.vendor)

    def test_follows_the_setting(self) -> None:
        user = UserFactory.create(now=MOMENTS[2])
        with override_settings(REST_FRAMEWORK={"DATETIME_FORMAT": "%d.%m.%Y %H:%M"}):
            date_sql = datetime_text_sql("date_joined", connection.vendor)
            (row,) = select_rows(f"SELECT {date_sql} FROM users_user WHERE id = %s", [user.pk], [])
        assert row == ("31.12.1999 12:05",)
        assert django_timezone.is_aware(user.date_joined)
