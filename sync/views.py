from collections.abc import Iterator
from uuid import UUID

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiExample, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sync.auth import API_KEY_ACCESS
from sync.selectors import user_export_batch, user_export_get, user_sync_page, user_sync_stream
from sync.serializers import (
    UserBatchQuerySerializer,
    UserExportBatchOutputSerializer,
    UserExportOutputSerializer,
    UserSyncOutputSerializer,
    UserSyncQuerySerializer,
    cursor_encode,
)

EXPORTED = {
    "uuid": "9b1f48c0-6b6e-4b2a-a7f3-1e5f2d3c4b5a",
    "referred_by_uuid": "3c9e2a71-0d4b-4f6e-9a1c-5b7d8e2f4a60",
    "email": "anna@example.com",
    "first_name": "Anna",
    "last_name": "Petrova",
    "phone": "+79991234567",
    "is_business_user": False,
    "is_active": True,
    "date_joined": "2026-02-04T08:51:14+00:00",
}


class ApiKeyView(APIView):
    authentication_classes = list(API_KEY_ACCESS.authentication)
    permission_classes = list(API_KEY_ACCESS.permissions)
    throttle_classes = list(API_KEY_ACCESS.throttles)


# UUIDs per write: one socket write per UUID would cost more than the whole query.
_STREAM_BATCH = 4096


def _stream_results(uuids: Iterator[str]) -> Iterator[bytes]:
    yield b'{"results": ['
    batch: list[str] = []
    first = True
    for user_uuid in uuids:
        batch.append(user_uuid)
        if len(batch) == _STREAM_BATCH:
            yield (b"" if first else b", ") + _quoted(batch)
            first, batch = False, []
    if batch:
        yield (b"" if first else b", ") + _quoted(batch)
    yield b"]}"


def _quoted(uuids: list[str]) -> bytes:
    return ('"' + '", "'.join(uuids) + '"').encode()


@extend_validation_errors(["required"], field_name="limit")  # a cursor without a limit
class UserSyncView(ApiKeyView):
    """UUIDs of users changed at or after `since` (Unix seconds, server clock; all users
    without it), each once, by latest change. Streamed; `limit` + `cursor` page it."""

    query_serializer_class = UserSyncQuerySerializer

    @extend_schema(
        summary="Users changed since a time (the change queue)",
        tags=["Change queue"],
        responses={200: UserSyncOutputSerializer},
        examples=[
            OpenApiExample(
                "The whole list (no limit)",
                response_only=True,
                value={"results": [EXPORTED["uuid"], "5d2c8f1a-7e3b-4c9d-8a6f-0b1e2d3c4f5a"]},
            ),
            OpenApiExample(
                "A page (limit=2)",
                response_only=True,
                value={"results": [EXPORTED["uuid"]], "next": "MTczODY1NzA3NC4xMjM0NTY6..."},
            ),
        ],
    )
    def get(self, request: Request) -> Response | StreamingHttpResponse:
        query = UserSyncQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        since = query.validated_data.get("since")
        limit = query.validated_data.get("limit")
        if limit is None:
            return StreamingHttpResponse(
                _stream_results(user_sync_stream(since=since)), content_type="application/json"
            )
        page, position = user_sync_page(
            since=since, limit=limit, after=query.validated_data.get("after")
        )
        next_cursor = cursor_encode(position, since=since) if position else None
        return Response({"results": [str(u) for u in page], "next": next_cursor})


class UserExportDetailView(ApiKeyView):
    """One user as the tree service sees it; 404 if there is no such user (erased users
    included). Routed by users.views.UserDetailView, which adds the staff's DELETE on
    the same path."""

    @extend_schema(
        operation_id="users_retrieve",
        summary="One user, for the tree service",
        tags=["Change queue"],
        examples=[OpenApiExample("A user", response_only=True, value=EXPORTED)],
        description=(
            "One user as the tree service sees it (X-API-Key only; a bearer token is not "
            "enough). 404 if there is no such user, erased users included."
        ),
        responses={200: UserExportOutputSerializer},
    )
    def get(self, request: Request, uuid: UUID) -> Response:
        return Response(user_export_get(uuid=uuid))


@extend_validation_errors(["blank", "invalid", "max_length"], field_name="uuids")
class UserExportBatchView(ApiKeyView):
    """Up to 100 users by UUID, in the order asked; unknown ones are left out."""

    query_serializer_class = UserBatchQuerySerializer

    @extend_schema(
        summary="Up to 100 users by uuid",
        tags=["Change queue"],
        responses={200: UserExportBatchOutputSerializer},
        examples=[
            OpenApiExample("The users found", response_only=True, value={"results": [EXPORTED]})
        ],
    )
    def get(self, request: Request) -> Response:
        query = UserBatchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response({"results": user_export_batch(uuids=query.validated_data["uuids"])})
