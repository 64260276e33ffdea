"""Helpers of the common tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.helpers import ApiResponse

# Moments the database and Python must render alike (common.db, common.formats).
MOMENTS = [
    datetime(2024, 1, 1, 0, 0, 0, tzinfo=UTC),
    datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),  # microseconds are dropped
    datetime(1999, 12, 31, 12, 5, 7, 500000, tzinfo=UTC),
    datetime(2031, 7, 4, 9, 30, 1, 1, tzinfo=timezone(timedelta(hours=5))),  # stored in UTC
]


def assert_envelope(
    response: ApiResponse, status: int, code: str, error_type: str = "client_error"
) -> None:
    """`response` is the error envelope with `status`, and its first error has `code`."""
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"type", "errors"}
    assert body["type"] == error_type
    assert body["errors"][0]["code"] == code
    assert set(body["errors"][0]) == {"code", "detail", "attr"}
