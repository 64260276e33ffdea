"""X-Request-ID on every answer and every log line, and one access line per request."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from pytest_django import Settings
from rest_framework.test import APIClient

from users.models import User

pytestmark = pytest.mark.django_db

GENERATED = re.compile(r"[0-9a-f]{32}")
JsonLog = Callable[[], list[dict[str, Any]]]


def _access_lines(json_log: JsonLog) -> list[dict[str, Any]]:
    return [line for line in json_log() if line["logger"] == "access"]


class TestRequestId:
    def test_a_safe_id_from_the_request_is_echoed(self, api_client: APIClient) -> None:
        response = api_client.get("/api/healthcheck/", HTTP_X_REQUEST_ID="lb-7f3a.01_x")

        assert response["X-Request-ID"] == "lb-7f3a.01_x"

    @pytest.mark.parametrize(
        "given", ["", "has space", 'quote"d', "x" * 129, "ünïcode", "a/b", "a;b=c"]
    )
    def test_an_unsafe_id_is_replaced_by_a_generated_one(
        self, api_client: APIClient, given: str
    ) -> None:
        response = api_client.get("/api/healthcheck/", HTTP_X_REQUEST_ID=given)

        assert GENERATED.fullmatch(response["X-Request-ID"])

    def test_a_request_without_one_gets_a_new_id_each_time(self, api_client: APIClient) -> None:
        ids = {api_client.get("/api/healthcheck/")["X-Request-ID"] for _ in range(3)}

        assert len(ids) == 3 and all(GENERATED.fullmatch(i) for i in ids)

    def test_the_longest_safe_id_passes(self, api_client: APIClient) -> None:
        response = api_client.get("/api/healthcheck/", HTTP_X_REQUEST_ID="a" * 128)

        assert response["X-Request-ID"] == "a" * 128

    def test_errors_outside_drf_carry_it(self, api_client: APIClient, settings: Settings) -> None:
        settings.ROOT_URLCONF = "tests.common.failing_urls"
        client = APIClient(raise_request_exception=False)

        answers = {
            404: api_client.get("/api/no-such-thing/", HTTP_X_REQUEST_ID="r-404"),
            413: api_client.generic(
                "POST",
                "/api/users/",
                "x",
                content_type="application/json",
                HTTP_X_REQUEST_ID="r-413",
                CONTENT_LENGTH=str(2 * 1024 * 1024),
            ),
            500: client.get("/api/boom/", HTTP_X_REQUEST_ID="r-500"),
        }

        assert {status: r.status_code for status, r in answers.items()} == {
            404: 404,
            413: 413,
            500: 500,
        }
        assert [r["X-Request-ID"] for r in answers.values()] == ["r-404", "r-413", "r-500"]

    def test_every_log_line_of_the_request_carries_it(
        self, api_client: APIClient, json_log: JsonLog, settings: Settings
    ) -> None:
        settings.ROOT_URLCONF = "tests.common.failing_urls"
        client = APIClient(raise_request_exception=False)

        client.get("/api/boom/", HTTP_X_REQUEST_ID="trace-me")

        lines = json_log()
        assert {line["logger"] for line in lines} >= {"django.request", "access"}
        assert {line["request_id"] for line in lines} == {"trace-me"}


class TestAccessLine:
    def test_one_line_per_request_with_method_path_status_and_duration(
        self, api_client: APIClient, json_log: JsonLog
    ) -> None:
        api_client.get("/api/referral-codes/NOPE1234/?x=1")

        [line] = _access_lines(json_log)
        assert (line["level"], line["method"], line["path"], line["status"]) == (
            "INFO",
            "GET",
            "/api/referral-codes/NOPE1234/",
            404,
        )
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert line["user_uuid"] is None and line["request_id"]

    def test_a_signed_in_user_is_named_by_uuid_never_by_id(
        self, auth_client: APIClient, user: User, json_log: JsonLog
    ) -> None:
        auth_client.get("/api/users/me/")

        [line] = _access_lines(json_log)
        assert line["user_uuid"] == str(user.uuid)
        assert str(user.pk) not in {str(value) for value in line.values()}

    def test_django_does_not_repeat_a_client_error_as_a_warning(
        self, api_client: APIClient, json_log: JsonLog
    ) -> None:
        api_client.get("/api/users/me/")  # 401

        assert [line["logger"] for line in json_log()] == ["access"]


def test_log_file_gets_the_same_json_lines(api_client: APIClient, json_log: JsonLog) -> None:
    logging.getLogger("tests").warning("hello %s", "world", extra={"kind": "x"})

    [line] = [line for line in json_log() if line["logger"] == "tests"]
    assert (line["message"], line["kind"], line["level"]) == ("hello world", "x", "WARNING")
