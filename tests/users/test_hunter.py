"""The deliverability check against a local server speaking Hunter's HTTP API."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import Settings
from rest_framework.test import APIClient

from tests.servers import FakeHttpService
from users.models import User

if TYPE_CHECKING:
    from tests.helpers import ApiResponse


pytestmark = pytest.mark.django_db


@pytest.fixture
def hunter(fake_http: FakeHttpService, settings: Settings) -> FakeHttpService:
    settings.HUNTER_API_KEY = "test-key"
    settings.HUNTER_API_URL = fake_http.url + "v2/email-verifier"
    settings.HUNTER_TIMEOUT = 0.5
    return fake_http


def register(client: APIClient, email: str = "new@example.com") -> ApiResponse:
    return client.post(
        "/api/users/", {"email": email, "password": "s3cret-Passw0rd!"}, format="json"
    )


@pytest.mark.parametrize("status", ["invalid", "disposable"])
def test_refuses_undeliverable_addresses(
    api_client: APIClient, hunter: FakeHttpService, status: str
) -> None:
    hunter.answer_json({"data": {"status": status, "result": "undeliverable"}})

    response = register(api_client)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "code": "email_undeliverable",
            "detail": "This email address cannot receive mail.",
            "attr": "email",
        }
    ]
    assert not User.objects.exists()
    assert hunter.requests[0]["query"] == {"email": "new@example.com", "api_key": "test-key"}


@pytest.mark.parametrize("status", ["valid", "accept_all", "webmail", "unknown"])
def test_accepts_other_verdicts(
    api_client: APIClient, hunter: FakeHttpService, status: str
) -> None:
    hunter.answer_json({"data": {"status": status}})

    assert register(api_client).status_code == 201


@pytest.mark.parametrize(
    "failure",
    ["http_500", "http_429", "garbage", "wrong_shape", "timeout", "connection_refused"],
)
def test_fails_open_when_hunter_cannot_answer(
    api_client: APIClient,
    hunter: FakeHttpService,
    failure: str,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if failure == "http_500":
        hunter.answer_json({"errors": [{"id": "server_error"}]}, status=500)
    elif failure == "http_429":
        hunter.answer_json({"errors": [{"id": "too_many_requests"}]}, status=429)
    elif failure == "garbage":
        hunter.answer_raw(b"<html>oops")
    elif failure == "wrong_shape":
        hunter.answer_json({"data": ["nope"]})
    elif failure == "timeout":
        hunter.should_hang = True
    elif failure == "connection_refused":
        settings.HUNTER_API_URL = "http://127.0.0.1:1/v2/email-verifier"

    response = register(api_client)

    assert response.status_code == 201
    assert "deliverability check unavailable" in caplog.text


def test_verdicts_are_cached(api_client: APIClient, hunter: FakeHttpService) -> None:
    hunter.answer_json({"data": {"status": "disposable"}})
    register(api_client, "same@example.com")

    register(api_client, "SAME@example.com")

    assert len(hunter.requests) == 1


def test_failures_are_not_cached(api_client: APIClient, hunter: FakeHttpService) -> None:
    hunter.answer_json({}, status=503)
    register(api_client, "first@example.com")
    hunter.answer_json({"data": {"status": "invalid"}})

    response = register(api_client, "first@example.com")

    assert response.status_code == 400
    assert len(hunter.requests) == 2


def test_no_key_means_no_check(
    api_client: APIClient, fake_http: FakeHttpService, settings: Settings
) -> None:
    settings.HUNTER_API_KEY = ""
    settings.HUNTER_API_URL = fake_http.url

    assert register(api_client).status_code == 201
    assert fake_http.requests == []


def test_a_new_email_on_patch_is_checked(auth_client: APIClient, hunter: FakeHttpService) -> None:
    hunter.answer_json({"data": {"status": "invalid"}})

    response = auth_client.patch("/api/users/me/", {"email": "bad@example.com"}, format="json")

    assert response.json()["errors"][0]["code"] == "email_undeliverable"


def test_the_admin_refuses_an_undeliverable_email_on_the_field(
    client: Client, hunter: FakeHttpService
) -> None:
    client.force_login(User.objects.create_superuser(email="root@example.com", password="pw"))
    hunter.answer_json({"data": {"status": "disposable"}})

    response = client.post(
        reverse("admin:users_user_add"),
        {"email": "new@example.com", "username": "", "phone": "", "usable_password": "false"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors.as_data()["email"][0].code == (
        "email_undeliverable"
    )
    assert not User.objects.filter(email="new@example.com").exists()
