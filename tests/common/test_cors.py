"""CORS for the web client: DJANGO_CORS_ALLOWED_ORIGINS, and nobody else."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django import Settings

pytestmark = pytest.mark.django_db

WEB_APP = "https://app.example.com"


@pytest.fixture(autouse=True)
def _web_app_allowed(settings: Settings) -> None:
    settings.CORS_ALLOWED_ORIGINS = [WEB_APP]


def preflight(origin: str, path: str = "/api/users/me/") -> dict[str, str]:
    response = Client().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PATCH",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )
    assert response.status_code == 200
    return {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-")}


def test_a_preflight_from_an_allowed_origin_is_answered_with_its_headers() -> None:
    headers = preflight(WEB_APP)

    assert headers["access-control-allow-origin"] == WEB_APP
    assert {"authorization", "content-type"} <= set(
        headers["access-control-allow-headers"].split(", ")
    )
    assert "PATCH" in headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in headers


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://app.example.com", "https://app.example.com.evil"]
)
def test_any_other_origin_gets_no_cors_header(origin: str) -> None:
    assert preflight(origin) == {}


def test_a_request_from_the_web_app_may_read_the_request_id_and_retry_after() -> None:
    response = Client().get("/api/healthcheck/", HTTP_ORIGIN=WEB_APP)

    assert response["Access-Control-Allow-Origin"] == WEB_APP
    exposed = set(response["Access-Control-Expose-Headers"].lower().split(", "))
    assert exposed == {"x-request-id", "retry-after"}


def test_no_origin_is_allowed_by_default(settings: Settings) -> None:
    settings.CORS_ALLOWED_ORIGINS = []

    assert preflight(WEB_APP) == {}


def test_the_admin_is_not_open_to_other_origins() -> None:
    assert preflight(WEB_APP, path="/admin/login/") == {}
