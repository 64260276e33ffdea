from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.users.factories import UserFactory
from users.models import User


@pytest.mark.django_db
class TestAnyOf:
    def test_finds_the_same_rows_as_in(self) -> None:
        users = [UserFactory() for _ in range(3)]
        asked = [users[0].uuid, users[2].uuid, uuid.UUID(int=7)]

        found = set(User.objects.filter(uuid__any_of=asked).values_list("pk", flat=True))

        assert found == set(User.objects.filter(uuid__in=asked).values_list("pk", flat=True))
        assert found == {users[0].pk, users[2].pk}

    def test_takes_uuid_strings_and_an_empty_list(self) -> None:
        user = UserFactory()

        assert list(User.objects.filter(uuid__any_of=[str(user.uuid)])) == [user]
        assert list(User.objects.filter(uuid__any_of=[])) == []

    def test_sends_one_array_parameter_on_postgres(self, postgres_only: None) -> None:
        with CaptureQueriesContext(connection) as captured:
            list(User.objects.filter(uuid__any_of=[uuid.UUID(int=n) for n in range(100)]))

        assert "= ANY(" in captured.captured_queries[0]["sql"]

    def test_ignores_none_as_in_does(self) -> None:
        user = UserFactory()

        assert list(User.objects.exclude(uuid__any_of=[uuid.UUID(int=7), None])) == [user]
        assert list(User.objects.filter(uuid__any_of=[user.uuid, None])) == [user]
