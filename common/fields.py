"""Serializer fields shared by the apps."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
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


class StrictStringMixin:
    """Refuses anything but a JSON string (`invalid`): DRF's string fields turn a number
    into its text, so `{"middle_name": 0}` would store "0" where the schema says string."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class CharField(StrictStringMixin, serializers.CharField):
    """The project's string field for request bodies (StrictStringMixin)."""

    default_error_messages = {"invalid": _("Not a valid string.")}


class EmailField(StrictStringMixin, serializers.EmailField):
    """The project's email field for request bodies (StrictStringMixin)."""
