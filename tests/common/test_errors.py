from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def assert_envelope(
    response: object, status: int, code: str, error_type: str = "client_error"
) -> None:
    assert response.status_code == status  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"type", "errors"}
    assert body["type"] == error_type
    assert body["errors"][0]["code"] == code
    assert set(body["errors"][0]) == {"code", "detail", "attr"}


class TestEnvelope:
    @pytest.mark.parametrize("path", ["/api/nope/", "/api/users/me", "/api/referrals/tree/extra/"])
    def test_unknown_api_paths_answer_404_in_the_envelope(
        self, api_client: APIClient, path: str
    ) -> None:
        assert_envelope(api_client.get(path), 404, "not_found")

    def test_unknown_path_on_post_is_404_not_a_redirect(self, api_client: APIClient) -> None:
        assert_envelope(api_client.post("/api/users", {}, format="json"), 404, "not_found")

    def test_method_not_allowed(self, auth_client: APIClient) -> None:
        assert_envelope(
            auth_client.put("/api/referrals/", {}, format="json"), 405, "method_not_allowed"
        )

    def test_non_json_body_is_415(self, api_client: APIClient) -> None:
        response = api_client.post(
            "/api/users/", "email=a", content_type="application/x-www-form-urlencoded"
        )

        assert_envelope(response, 415, "unsupported_media_type")

    def test_malformed_json_is_400_parse_error(self, api_client: APIClient) -> None:
        response = api_client.post("/api/users/", "{not json", content_type="application/json")

        assert_envelope(response, 400, "parse_error")

    def test_json_that_is_not_an_object_is_a_validation_error(self, api_client: APIClient) -> None:
        response = api_client.post("/api/users/", "[1, 2]", content_type="application/json")

        assert response.status_code == 400
        assert response.json()["type"] == "validation_error"
        assert response.json()["errors"][0]["attr"] is None

    def test_body_over_1_mib_is_413(self, api_client: APIClient) -> None:
        payload = '{"email": "' + "a" * (1024 * 1024) + '"}'

        response = api_client.post("/api/users/", payload, content_type="application/json")

        assert_envelope(response, 413, "payload_too_large")

    def test_bad_bearer_token_is_401(self, api_client: APIClient) -> None:
        api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

        assert_envelope(api_client.get("/api/users/me/"), 401, "token_not_valid")

    @pytest.mark.parametrize(
        "body",
        [
            {"email": None, "password": None},
            {"email": ["x"], "password": {"a": 1}},
            {"email": "a@example.com", "password": "x" * 10_000},
            {"email": "a@example.com", "password": "Str0ng-pass!", "referral_code": 12},
        ],
    )
    def test_odd_input_is_a_400_never_a_500(self, api_client: APIClient, body: dict) -> None:
        response = api_client.post("/api/users/", body, format="json")

        assert response.status_code == 400
        assert response.json()["type"] == "validation_error"

    def test_messages_follow_accept_language(self, api_client: APIClient) -> None:
        english = api_client.get("/api/users/me/").json()["errors"][0]["detail"]
        russian = api_client.get("/api/users/me/", HTTP_ACCEPT_LANGUAGE="ru").json()["errors"][0][
            "detail"
        ]

        assert english != russian
        assert any("а" <= ch <= "я" for ch in russian.lower())
