from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from django.core import signing
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sync.errors import SyncCursorInvalidError

_CURSOR_SALT = "sync.user-sync.cursor"
MAX_BATCH = 100


class UserSyncQuerySerializer(serializers.Serializer):
    since = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=253402300799,  # 9999-12-31T23:59:59Z
        error_messages={"invalid": _("since must be an integer number of seconds (Unix time).")},
        help_text="Unix time in seconds, compared with the server's clock; all users without it.",
    )
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=10000, help_text="Page size; adds `next`."
    )
    cursor = serializers.CharField(
        required=False, help_text="`next` of the previous page, with the same `since` and a limit."
    )

    def validate_since(self, value: int) -> datetime:
        return datetime.fromtimestamp(value, tz=UTC)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "cursor" in attrs and "limit" not in attrs:
            # Without it the answer would be the whole list from the start, not the rest.
            raise serializers.ValidationError(
                {"limit": _("A cursor continues a paged list: give limit with it.")},
                code="required",
            )
        if "cursor" in attrs:
            attrs["after"] = cursor_decode(attrs.pop("cursor"), since=attrs.get("since"))
        return attrs


def cursor_encode(position: tuple[datetime, uuid.UUID], *, since: datetime | None) -> str:
    """An opaque, signed continuation token, bound to the `since` it was issued for."""
    last, user_uuid = position
    payload = {
        "l": last.isoformat(),
        "u": str(user_uuid),
        "s": since.isoformat() if since else None,
    }
    return signing.dumps(payload, salt=_CURSOR_SALT, compress=True)


def cursor_decode(token: str, *, since: datetime | None) -> tuple[datetime, uuid.UUID]:
    """Raises SyncCursorInvalidError for a token this server did not issue for `since`."""
    try:
        payload = signing.loads(token, salt=_CURSOR_SALT)
        if payload["s"] != (since.isoformat() if since else None):
            raise SyncCursorInvalidError()
        return datetime.fromisoformat(payload["l"]), uuid.UUID(payload["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise SyncCursorInvalidError() from exc


@extend_schema_field(OpenApiTypes.STR)
class UuidListField(serializers.Field):
    """Comma-separated UUIDs. Not a CharField: its NUL-byte validator walks a 3,600-
    character value one character at a time, and UUID() refuses NUL bytes anyway."""

    default_error_messages = {
        "required": _("Give uuids: up to 100 UUIDs, comma-separated."),
        "blank": _("Give uuids: up to 100 UUIDs, comma-separated."),
    }

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or not data.strip():
            self.fail("blank")
        return data


class UserBatchQuerySerializer(serializers.Serializer):
    uuids = UuidListField(help_text="Up to 100 UUIDs, comma-separated.")

    def validate_uuids(self, value: str) -> list[uuid.UUID]:
        parts = [part.strip() for part in value.split(",")]
        if len(parts) > MAX_BATCH:
            raise serializers.ValidationError(
                _("At most 100 UUIDs per request."), code="max_length"
            )
        try:
            return [uuid.UUID(part) for part in parts]
        except ValueError as exc:
            raise serializers.ValidationError(_("Malformed UUID."), code="invalid") from exc


class UserSyncOutputSerializer(serializers.Serializer):
    results = serializers.ListField(child=serializers.UUIDField())
    next = serializers.CharField(allow_null=True, required=False)


class UserExportOutputSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    referred_by_uuid = serializers.UUIDField(allow_null=True)
    email = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    phone = serializers.CharField()
    is_business_user = serializers.BooleanField()
    is_active = serializers.BooleanField()
    date_joined = serializers.DateTimeField()


class UserExportBatchOutputSerializer(serializers.Serializer):
    results = UserExportOutputSerializer(many=True)
