"""Staff-only user administration over HTTP: POST /api/users/<uuid>/restore/ and
DELETE /api/users/<uuid>/, whose GET is the tree service's (X-API-Key) export."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from sync.services import api_key_create
from tests.helpers import client_for, invite, only_error
from tests.users.factories import UserFactory
from users.models import User
from users.services.accounts import user_deactivate
from users.services.lifecycle import user_erase

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db: None) -> APIClient:
    return client_for(UserFactory.create(is_staff=True))


@pytest.fixture
def api_key() -> str:
    return api_key_create(name="tree-service")[1]


class TestUserErase:
    def test_staff_erase_a_user_who_is_then_gone(
        self, staff_client: APIClient, api_key: str
    ) -> None:
        referrer = UserFactory.create()
        user = invite(referrer)
        referral = invite(user)

        response = staff_client.delete(f"/api/users/{user.uuid}/")

        assert response.status_code == 204
        assert User.objects.get(pk=user.pk).is_erased
        assert User.objects.get(pk=referral.pk).referred_by == referrer
        exported = APIClient().get(f"/api/users/{user.uuid}/", HTTP_X_API_KEY=api_key)
        assert exported.status_code == 404
        assert staff_client.delete(f"/api/users/{user.uuid}/").status_code == 404

    def test_a_non_staff_token_is_forbidden_whether_or_not_the_user_exists(
        self, auth_client: APIClient
    ) -> None:
        other = UserFactory.create()

        existing = auth_client.delete(f"/api/users/{other.uuid}/")
        missing = auth_client.delete(f"/api/users/{uuid.uuid4()}/")

        assert existing.status_code == missing.status_code == 403
        assert existing.json() == missing.json()
        assert only_error(existing)["code"] == "permission_denied"
        assert not User.objects.get(pk=other.pk).is_erased

    def test_no_token_is_unauthenticated(self, api_client: APIClient, user: User) -> None:
        response = api_client.delete(f"/api/users/{user.uuid}/")

        assert response.status_code == 401
        assert only_error(response)["code"] == "not_authenticated"

    def test_an_api_key_does_not_erase(
        self, api_client: APIClient, user: User, api_key: str
    ) -> None:
        response = api_client.delete(f"/api/users/{user.uuid}/", HTTP_X_API_KEY=api_key)

        assert response.status_code == 401
        assert not User.objects.get(pk=user.pk).is_erased

    def test_a_missing_user_is_not_found_for_staff(self, staff_client: APIClient) -> None:
        response = staff_client.delete(f"/api/users/{uuid.uuid4()}/")

        assert response.status_code == 404
        assert only_error(response)["code"] == "not_found"


def test_an_erased_users_referrals_are_not_found_even_for_staff(
    staff_client: APIClient, user: User, now: datetime
) -> None:
    assert staff_client.get(f"/api/users/{user.uuid}/referrals/").status_code == 200
    user_erase(user=user, now=now)

    assert staff_client.get(f"/api/users/{user.uuid}/referrals/").status_code == 404


class TestUserExportOnTheSamePath:
    def test_a_bearer_token_alone_cannot_read_the_export(
        self, staff_client: APIClient, user: User
    ) -> None:
        response = staff_client.get(f"/api/users/{user.uuid}/")

        assert response.status_code == 401

    def test_the_api_key_still_reads_it(
        self, api_client: APIClient, user: User, api_key: str
    ) -> None:
        response = api_client.get(f"/api/users/{user.uuid}/", HTTP_X_API_KEY=api_key)

        assert response.status_code == 200
        assert response.json()["uuid"] == str(user.uuid)

    def test_head_takes_the_api_key_as_get_does(
        self, api_client: APIClient, user: User, api_key: str
    ) -> None:
        assert api_client.head(f"/api/users/{user.uuid}/").status_code == 401
        assert (
            api_client.head(f"/api/users/{user.uuid}/", HTTP_X_API_KEY=api_key).status_code == 200
        )


class TestUserRestore:
    def test_staff_restore_a_deactivated_user(self, staff_client: APIClient, user: User) -> None:
        user_deactivate(user=user)

        response = staff_client.post(f"/api/users/{user.uuid}/restore/")

        assert response.status_code == 200
        assert response.json() == {"uuid": str(user.uuid), "is_active": True}
        assert User.objects.get(pk=user.pk).is_active

    def test_an_active_user_is_already_active(self, staff_client: APIClient, user: User) -> None:
        response = staff_client.post(f"/api/users/{user.uuid}/restore/")

        assert response.status_code == 400
        assert only_error(response) == {
            "code": "already_active",
            "detail": "This user is already active.",
            "attr": None,
        }

    def test_an_erased_user_is_not_found(
        self, staff_client: APIClient, user: User, now: datetime
    ) -> None:
        user_erase(user=user, now=now)

        response = staff_client.post(f"/api/users/{user.uuid}/restore/")

        assert response.status_code == 404

    def test_a_non_staff_token_is_forbidden_whether_or_not_the_user_exists(
        self, auth_client: APIClient
    ) -> None:
        other = UserFactory.create()
        user_deactivate(user=other)

        existing = auth_client.post(f"/api/users/{other.uuid}/restore/")
        missing = auth_client.post(f"/api/users/{uuid.uuid4()}/restore/")

        assert existing.status_code == missing.status_code == 403
        assert existing.json() == missing.json()
        assert not User.objects.get(pk=other.pk).is_active

    def test_no_token_is_unauthenticated(self, api_client: APIClient, user: User) -> None:
        assert api_client.post(f"/api/users/{user.uuid}/restore/").status_code == 401

    def test_the_answer_is_in_russian_when_asked(self, staff_client: APIClient, user: User) -> None:
        response = staff_client.post(f"/api/users/{user.uuid}/restore/", HTTP_ACCEPT_LANGUAGE="ru")

        assert only_error(response)["detail"] == "Этот пользователь уже активен."


def test_the_schema_documents_each_operation_with_its_own_credentials() -> None:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    detail = paths["/api/users/{uuid}/"]
    assert detail["get"]["security"] == [{"ApiKeyAuth": []}]
    assert detail["delete"]["security"] == [{"jwtAuth": []}]
    assert {"204", "401", "403", "404"} <= set(detail["delete"]["responses"])
    restore = paths["/api/users/{uuid}/restore/"]["post"]
    assert restore["security"] == [{"jwtAuth": []}]
    assert {"200", "400", "401", "403", "404"} <= set(restore["responses"])
