from __future__ import annotations

import json
import logging
import sys

import pytest

from common.logging import (
    DependencyFailureLog,
    JsonFormatter,
    RedactingFilter,
    mask_text,
    mask_value,
)


def _record(msg: str, *args: object, exc: bool = False, **extra: object) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError("duplicate key (email)=(anna@example.com)")
        except RuntimeError:
            exc_info = sys.exc_info()
    return logging.getLogger("users.services").makeRecord(
        "users.services", logging.ERROR, __file__, 1, msg, args, exc_info, extra=extra
    )


def _line(record: logging.LogRecord) -> dict[str, object]:
    RedactingFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


class TestJsonLines:
    def test_a_line_has_time_level_logger_message_and_the_extra_fields(self) -> None:
        line = _line(_record("Email not sent", user_uuid="u-1", email_kind="password_reset"))

        assert {k: line[k] for k in ("level", "logger", "message", "user_uuid", "email_kind")} == {
            "level": "ERROR",
            "logger": "users.services",
            "message": "Email not sent",
            "user_uuid": "u-1",
            "email_kind": "password_reset",
        }
        assert str(line["time"]).endswith("+00:00")

    def test_the_traceback_is_one_field_of_the_same_line_and_masked(self) -> None:
        formatted = JsonFormatter().format(_filtered(_record("Failed", exc=True)))

        assert "\n" not in formatted
        traceback = json.loads(formatted)["exc_info"]
        assert traceback.startswith("Traceback") and "a***@example.com" in traceback
        assert "anna@example.com" not in formatted


def _filtered(record: logging.LogRecord) -> logging.LogRecord:
    RedactingFilter().filter(record)
    return record


class TestMasking:
    @pytest.mark.parametrize(
        ("text", "masked"),
        [
            ("to anna.k@example.com now", "to a***@example.com now"),
            ("phone +79991234567.", "phone +7999***67."),
            ("phone +7 (999) 123-45-67", "phone +7999***67"),
            ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJl", "Bearer [redacted]"),
            ("key AbCd1234.AbCdEfGhIjKlMnOpQrStUvWxYz012345 used", "key [redacted] used"),
            ("token cz2r1k-0123456789abcdef0123456789abcdef", "token [redacted]"),
            ("password=hunter2&x=1", "password=[redacted]&x=1"),
            ('{"code": "123456"}', '{"code": "***"}'),
            ("otp=4821", "otp=[redacted]"),
            ("phone_code=12345678 sent", "phone_code=*** sent"),
        ],
    )
    def test_text_loses_what_identifies_or_authenticates(self, text: str, masked: str) -> None:
        assert mask_text(text) == masked

    @pytest.mark.parametrize(
        "text",
        [
            "user 6f1c2f0e-8a7b-4c1d-9e2f-0123456789ab joined",
            "since=1735689600 limit=100",
            "code=K7Q2M9XD redeemed",  # a referral code is public
            "GET /api/referrals/ 200 in 12.5 ms",
        ],
    )
    def test_text_keeps_what_is_neither(self, text: str) -> None:
        assert mask_text(text) == text

    @pytest.mark.parametrize(
        ("name", "value", "masked"),
        [
            ("password", "hunter2", "[redacted]"),
            ("refresh", "anything", "[redacted]"),
            ("api_key", "whatever", "[redacted]"),
            ("uid", "NmYxYzJm", "[redacted]"),
            ("code", "123456", "***"),
            ("otp", 4821, "[redacted]"),
            ("code", "K7Q2M9XD", "K7Q2M9XD"),
            ("email", "anna@example.com", "a***@example.com"),
            ("phone", "89991234567", "8999***67"),
            ("params", ("anna@example.com", 7), ("a***@example.com", 7)),
            (
                "body",
                {"password": "x", "phone": "+79991234567"},
                {"password": "[redacted]", "phone": "+7999***67"},
            ),
            ("status", 200, 200),
        ],
    )
    def test_a_field_is_masked_by_its_name_then_by_its_value(
        self, name: str, value: object, masked: object
    ) -> None:
        assert mask_value(name, value) == masked

    def test_the_filter_masks_the_message_its_arguments_and_the_extras(self) -> None:
        record = _filtered(
            _record("Sent to %s", "anna@example.com", token="abc", to="+79991234567")
        )

        assert record.getMessage() == "Sent to a***@example.com"
        assert (vars(record)["token"], vars(record)["to"]) == ("[redacted]", "+7999***67")


class TestDependencyFailureLog:
    @pytest.fixture
    def lines(self) -> list[logging.LogRecord]:
        return []

    @pytest.fixture
    def failures(self, lines: list[logging.LogRecord]) -> DependencyFailureLog:
        logger = logging.getLogger("tests.dependencies")
        logger.propagate = False
        logger.handlers = [_ListHandler(lines)]
        return DependencyFailureLog(logger=logger, interval=lambda: 10)

    def test_logs_the_first_failure_and_keeps_quiet_for_the_interval(
        self, failures: DependencyFailureLog, lines: list[logging.LogRecord]
    ) -> None:
        logged = [
            failures.record(kind="database", error=OSError("down"), now=t) for t in (0, 1, 9.9)
        ]

        assert logged == [True, False, False]
        assert len(lines) == 1 and vars(lines[0])["suppressed_since_last"] == 0
        assert lines[0].exc_info is not None  # one traceback per interval, not per request

    def test_the_next_line_counts_the_failures_kept_quiet(
        self, failures: DependencyFailureLog, lines: list[logging.LogRecord]
    ) -> None:
        for t in (0, 1, 2, 3):
            failures.record(kind="cache", error=OSError("down"), now=t)

        failures.record(kind="cache", error=OSError("down"), now=10)

        assert [vars(line)["suppressed_since_last"] for line in lines] == [0, 3]

    def test_each_kind_has_its_own_interval(
        self, failures: DependencyFailureLog, lines: list[logging.LogRecord]
    ) -> None:
        failures.record(kind="database", error=OSError("down"), now=0)

        failures.record(kind="cache", error=OSError("down"), now=1)

        assert [vars(line)["dependency"] for line in lines] == ["database", "cache"]


class _ListHandler(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
