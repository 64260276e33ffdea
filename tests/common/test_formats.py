from __future__ import annotations

from datetime import datetime

import pytest
from rest_framework import serializers

from common.formats import format_datetime
from tests.common.helpers import MOMENTS


class TestFormatDatetime:
    """format_datetime must render what DRF's DateTimeField renders under our settings."""

    @pytest.mark.parametrize("moment", MOMENTS)
    def test_renders_as_drf(self, moment: datetime) -> None:
        assert format_datetime(moment) == serializers.DateTimeField().to_representation(moment)

    def test_renders_in_utc(self) -> None:
        assert format_datetime(MOMENTS[3]) == "2031-07-04T04:30:01+00:00"

    def test_takes_a_naive_datetime_as_utc(self) -> None:
        naive = datetime(2024, 5, 1, 12, 3, 4)
        assert format_datetime(naive) == "2024-05-01T12:03:04+00:00"
        assert format_datetime(naive) == serializers.DateTimeField().to_representation(naive)

    def test_passes_text_and_none_through(self) -> None:
        assert format_datetime("2024-05-01T12:03:04+00:00") == "2024-05-01T12:03:04+00:00"
        assert format_datetime(None) is None
