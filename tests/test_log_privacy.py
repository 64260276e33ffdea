"""No personal data or secret in any log line. Each flow below runs through the API with
every log line captured at DEBUG through the real logging configuration, SQL statements
and their parameters included, and returns the secrets it used; none may appear in the
log. Another flow is one more function in FLOWS."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from rest_framework.test import APIClient

from sync.services import api_key_create
from tests.helpers import queued_uuids
from tests.queue import run_tasks
from tests.users.factories import UserFactory
from users import sms

pytestmark = pytest.mark.django_db

PASSWORD = "Tr0ub4dor-and-3-horses"
EMAIL = "anna.karenina@example.com"
PHONE = "+79991234567"

Flow = Callable[[APIClient], list[str]]
FLOWS: list[Flow] = []


def flow(function: Flow) -> Flow:
    FLOWS.append(function)
    return function


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json() if response.content else None


@flow
def sign_up(client: APIClient) -> list[str]:
    ok(
        client.post(
            "/api/users/",
            {"email": EMAIL, "password": PASSWORD, "phone": PHONE, "username": "anna"},
        ),
        201,
    )
    return [PASSWORD, EMAIL, PHONE]


@flow
def sign_in(client: APIClient) -> list[str]:
    UserFactory.create(email=EMAIL, phone=PHONE, password=PASSWORD)
    tokens = ok(client.post("/api/auth/jwt/create/", {"email": EMAIL, "password": PASSWORD}))
    rotated = ok(client.post("/api/auth/jwt/refresh/", {"refresh": tokens["refresh"]}))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {rotated['access']}")
    ok(client.get("/api/users/me/"))
    ok(client.post("/api/auth/jwt/logout/", {"refresh": rotated["refresh"]}), 205)
    return [PASSWORD, EMAIL, PHONE, *tokens.values(), *rotated.values()]


@flow
def password_reset(client: APIClient) -> list[str]:
    UserFactory.create(email=EMAIL, phone=PHONE, password=PASSWORD)
    ok(client.post("/api/users/reset_password/", {"email": EMAIL}), 204)
    run_tasks()
    link = re.search(
        r"password/reset/confirm/(?P<uid>[^/\s]+)/(?P<token>[^/\s]+)", str(mail.outbox[0].body)
    )
    assert link is not None
    new_password = "Brand-new-Secret-77"
    ok(
        client.post(
            "/api/users/reset_password_confirm/", {**link.groupdict(), "new_password": new_password}
        ),
        204,
    )
    return [PASSWORD, EMAIL, PHONE, link["uid"], link["token"], new_password]


@flow
def change_queue(client: APIClient) -> list[str]:
    user = UserFactory.create(email=EMAIL, phone=PHONE)
    _, key = api_key_create(name="tree-service")
    client.credentials(HTTP_X_API_KEY=key)
    queued_uuids()  # the deferred triggers of this (test) transaction fire
    assert str(user.uuid) in b"".join(client.get("/api/user-sync/").streaming_content).decode()  # type: ignore[attr-defined]
    ok(client.get(f"/api/users/batch/?uuids={user.uuid}"))
    ok(client.get(f"/api/users/{user.uuid}/"))
    return [key, EMAIL, PHONE]


@flow
def phone_sign_in(client: APIClient) -> list[str]:
    sms.outbox.clear()
    ok(client.post("/api/auth/phone/code/", {"phone": PHONE}), 202)
    found = re.search(r"\d{4,10}", sms.outbox[-1].text)
    assert found is not None
    tokens = ok(client.post("/api/auth/phone/token/", {"phone": PHONE, "code": found[0]}))
    return [PHONE, found[0], tokens["access"], tokens["refresh"]]


@pytest.fixture
def sql_logged() -> Iterator[None]:
    """SQL statements with their parameters in the log, as with DJANGO_DEBUG on."""
    connection.force_debug_cursor = True
    yield
    connection.force_debug_cursor = False


@pytest.mark.parametrize("run", FLOWS, ids=[f.__name__ for f in FLOWS])
def test_no_log_line_holds_personal_data_or_a_secret(
    run: Flow, json_log: Callable[[], list[dict[str, Any]]], sql_logged: None
) -> None:
    secrets = run(APIClient())

    lines = json_log()
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    assert {line["logger"] for line in lines} >= {"access", "django.db.backends"}
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == []
    assert "***" in text  # the personal data was there, masked
