"""The schema and the answers agree: every string of a request body refuses a non-string
(`invalid`), and page_size outside 1-100 is 400 `invalid`, as the schema's bounds say."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from sync.services import api_key_create
from tests.helpers import client_for
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db

# simplejwt's own refresh and verify serializers (users/tokens.py) still take a number for
# the token; it can only fail as a token (401), never be stored.
NOT_YET_STRICT = {("/api/auth/jwt/refresh/", "refresh"), ("/api/auth/jwt/verify/", "token")}


def _string_fields(schema: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(path, method, property) of every string property of a JSON request body."""

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        return node

    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            for name, prop in resolve(body["schema"]).get("properties", {}).items():
                prop = resolve(prop)
                if prop.get("type") == "string" and not prop.get("readOnly"):
                    found.append((path, method, name))
    return found


def _schema() -> dict[str, Any]:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    return response.json()


def test_the_schema_has_string_fields_to_check() -> None:
    assert len(_string_fields(_schema())) > 20


@pytest.mark.parametrize("value", [0, 12.5, True, ["a"], {"a": 1}])
def test_every_string_of_a_request_body_refuses_anything_else(value: object) -> None:
    user: User = UserFactory.create()
    client = client_for(user)
    client.credentials(
        HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"],  # type: ignore[attr-defined]
        HTTP_X_API_KEY=api_key_create(name="strict")[1],
    )
    accepted = []
    for path, method, name in _string_fields(_schema()):
        if (path, name) in NOT_YET_STRICT:
            continue
        url = path.replace("{code}", "NOPE1234").replace("{uuid}", str(user.uuid))
        response = getattr(client, method)(url, {name: value}, format="json")
        if response.status_code == 404:
            continue  # no such object at the made-up path: validation is not reached
        errors = response.json().get("errors", []) if response.content else []
        refused = {(e["attr"], e["code"]) for e in errors}
        # A choice (an enum in the schema) is refused as DRF's invalid_choice.
        if not refused & {(name, "invalid"), (name, "invalid_choice")}:
            accepted.append((method, path, name, response.status_code))

    assert accepted == []


def test_middle_name_is_not_stored_from_a_number(auth_client: APIClient, user: User) -> None:
    response = auth_client.patch("/api/users/me/", {"middle_name": 0}, format="json")

    user.refresh_from_db()
    assert response.status_code == 400 and user.middle_name == ""


class TestPageSize:
    @pytest.mark.parametrize("page_size", ["0", "101", "-1", "abc", "1.5", "²"])
    def test_outside_1_to_100_is_invalid(self, auth_client: APIClient, page_size: str) -> None:
        response = auth_client.get(f"/api/referrals/?page_size={page_size}")

        assert response.status_code == 400
        assert response.json()["errors"] == [
            {
                "code": "invalid",
                "detail": "page_size is a whole number from 1 to 100.",
                "attr": "page_size",
            }
        ]

    @pytest.mark.parametrize(("page_size", "expected"), [("1", 1), ("100", 100), ("", 20)])
    def test_within_bounds_it_is_used(
        self, auth_client: APIClient, user: User, page_size: str, expected: int
    ) -> None:
        for n in range(3):
            UserFactory.create(
                referral_code=user.referral_codes.get(is_active=True).code,
                email=f"r{n}@example.com",
            )

        response = auth_client.get(f"/api/referrals/?page_size={page_size}")

        assert response.status_code == 200
        assert len(response.json()["results"]) == min(expected, 3)

    def test_an_odd_page_number_is_invalid_not_a_server_error(self, auth_client: APIClient) -> None:
        response = auth_client.get("/api/referrals/?page=²")

        assert (response.status_code, response.json()["errors"][0]["attr"]) == (400, "page")
