"""Serializer fields shared by the apps."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from rest_framework import serializers
from rest_framework.fields import empty

# What DRF's IntegerField answers for a value that is not a whole number in range.
_OUT_OF_RANGE_CODES = {"invalid", "min_value", "max_value", "max_string_length"}


class IntegerInRangeField(serializers.IntegerField):
    """An integer from `min_value` to `max_value`, for parameters where API.md names one
    code, `invalid`, for every bad value: DRF's IntegerField would also answer
    `min_value`, `max_value` and, for over 1,000 characters, `max_string_length`."""

    def __init__(self, *, message: str | Promise, **kwargs: Any) -> None:
        self.message = message
        super().__init__(**kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        try:
            return super().run_validation(data)
        except serializers.ValidationError as exc:
            codes = exc.get_codes()
            if not isinstance(codes, list) or _OUT_OF_RANGE_CODES.isdisjoint(codes):
                raise  # required, null: DRF's own
            raise serializers.ValidationError(str(self.message), code="invalid") from exc
