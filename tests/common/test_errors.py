from __future__ import annotations

import pytest
from pytest_django import Settings
from rest_framework.test import APIClient

from tests.common.helpers import assert_envelope
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db


class TestUnknownPaths:
    """An API path nothing serves answers 404 in the envelope, whatever the method."""

    @pytest.mark.parametrize("path", ["/api/nope/", "/api/users/me", "/api/referrals/tree/extra/"])
    def test_answer_404_on_a_read(self, api_client: APIClient, path: str) -> None:
        assert_envelope(api_client.get(path), 404, "not_found")

    def test_answer_404_not_a_redirect_on_a_post_without_its_slash(
        self, api_client: APIClient
    ) -> None:
        assert_envelope(api_client.post("/api/users", {}, format="json"), 404, "not_found")

    @pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
    def test_answer_404_on_a_write_with_csrf_enforced(self, method: str) -> None:
        client = APIClient(enforce_csrf_checks=True)

        assert_envelope(getattr(client, method)("/api/nope/", {}, format="json"), 404, "not_found")


class TestRefusedRequests:
    """What DRF refuses before the view comes in the envelope with its own code."""

    def test_a_method_the_view_lacks_is_405(self, auth_client: APIClient) -> None:
        assert_envelope(
            auth_client.put("/api/referrals/", {}, format="json"), 405, "method_not_allowed"
        )

    def test_a_bad_bearer_token_is_401(self, api_client: APIClient) -> None:
        api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

        assert_envelope(api_client.get("/api/users/me/"), 401, "token_not_valid")


class TestRequestBody:
    """A body that is not a JSON object of the right shape is a 4xx, never a 500."""

    def test_a_body_that_is_not_json_is_415(self, api_client: APIClient) -> None:
        response = api_client.post(
            "/api/users/", "email=a", content_type="application/x-www-form-urlencoded"
        )

        assert_envelope(response, 415, "unsupported_media_type")

    def test_malformed_json_is_400_parse_error(self, api_client: APIClient) -> None:
        response = api_client.post("/api/users/", "{not json", content_type="application/json")

        assert_envelope(response, 400, "parse_error")

    def test_json_nested_past_the_recursion_limit_is_400(self, api_client: APIClient) -> None:
        body = "[" * 5000 + "]" * 5000

        response = api_client.post("/api/auth/jwt/verify/", body, content_type="application/json")

        assert_envelope(response, 400, "parse_error")

    def test_json_that_is_not_an_object_is_a_validation_error(self, api_client: APIClient) -> None:
        response = api_client.post("/api/users/", "[1, 2]", content_type="application/json")

        assert response.status_code == 400
        assert response.json()["type"] == "validation_error"
        assert response.json()["errors"][0]["attr"] is None

    def test_a_body_over_1_mib_is_413(self, api_client: APIClient) -> None:
        payload = '{"email": "' + "a" * (1024 * 1024) + '"}'

        response = api_client.post("/api/users/", payload, content_type="application/json")

        assert_envelope(response, 413, "payload_too_large")

    @pytest.mark.parametrize(
        "body",
        [
            {"email": None, "password": None},
            {"email": ["x"], "password": {"a": 1}},
            {"email": "a@example.com", "password": "x" * 10_000},
            {"email": "a@example.com", "password": "Str0ng-pass!", "referral_code": 12},
        ],
    )
    def test_odd_values_are_a_400_validation_error(self, api_client: APIClient, body: dict) -> None:
        response = api_client.post("/api/users/", body, format="json")

        assert response.status_code == 400
        assert response.json()["type"] == "validation_error"


class TestLanguage:
    """The envelope's messages follow Accept-Language."""

    def test_a_views_messages_follow_it(self, api_client: APIClient) -> None:
        english = api_client.get("/api/users/me/").json()["errors"][0]["detail"]
        russian = api_client.get("/api/users/me/", HTTP_ACCEPT_LANGUAGE="ru").json()["errors"][0][
            "detail"
        ]

        assert english != russian
        assert any("а" <= ch <= "я" for ch in russian.lower())

    def test_the_413_of_the_middleware_follows_it(self, api_client: APIClient) -> None:
        payload = '{"email": "' + "a" * (1024 * 1024) + '"}'

        response = api_client.post(
            "/api/users/", payload, content_type="application/json", HTTP_ACCEPT_LANGUAGE="ru"
        )

        assert response.status_code == 413
        assert any("а" <= ch <= "я" for ch in response.json()["errors"][0]["detail"].lower())


class TestUnavailableDependencies:
    def test_an_unreachable_cache_is_503_server_error(self, settings: Settings) -> None:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"socket_connect_timeout": 0.5},
            }
        }

        # The 5xx is also signalled to error monitors, which the test client would re-raise.
        client = APIClient(raise_request_exception=False)

        response = client.get("/api/referral-codes/ABCD1234/")

        assert_envelope(response, 503, "service_unavailable", error_type="server_error")


class TestDjangosOwnErrorPages:
    """Errors Django answers before or outside any DRF view come in the envelope too."""

    def test_a_host_not_allowed_is_400(self, api_client: APIClient) -> None:
        response = api_client.get("/api/healthcheck/", HTTP_HOST="evil.example")

        assert_envelope(response, 400, "bad_request")

    def test_too_many_fields_is_400(self, api_client: APIClient, settings: Settings) -> None:
        settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10

        response = api_client.get("/api/users/batch/?" + "&".join(f"f{n}=1" for n in range(11)))

        assert_envelope(response, 400, "bad_request")

    def test_a_refusal_outside_drf_is_403(self, api_client: APIClient) -> None:
        staff = UserFactory.create(is_staff=True)  # staff, but no permission on users
        api_client.force_login(staff)

        response = api_client.get("/admin/users/user/")

        assert_envelope(response, 403, "permission_denied")

    def test_an_unhandled_exception_is_500_in_the_envelope(self, settings: Settings) -> None:
        settings.ROOT_URLCONF = "tests.common.failing_urls"
        client = APIClient(raise_request_exception=False)

        response = client.get("/api/boom/")

        assert_envelope(response, 500, "error", error_type="server_error")
