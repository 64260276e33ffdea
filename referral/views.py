from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from codes.errors import INVITE_CODE_ERROR_CODES
from common.network import ClientFacts
from referral.errors import (
    AlreadyReferredError,
    OwnCodeError,
    ReferralCycleError,
    ReferralRefusedError,
    TreeTooDeepError,
)
from referral.selectors import (
    referral_downline,
    referral_list_direct,
    referral_list_for_user,
    referral_stats,
    referral_upline,
)
from referral.serializers import (
    DownlineOutputSerializer,
    DownlineQuerySerializer,
    ReferralListQuerySerializer,
    ReferralOutputSerializer,
    ReferralStatsOutputSerializer,
    ReferrerSetInputSerializer,
    ReferrerSetOutputSerializer,
    UplineOutputSerializer,
)
from referral.services import referrer_set
from users.authentication import authenticated_user


def _search(request: Request) -> str | None:
    if "search" not in request.query_params:
        return None  # the usual request: no serializer to build
    query = ReferralListQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data.get("search") or None


REFERRAL = {
    "uuid": "5d2c8f1a-7e3b-4c9d-8a6f-0b1e2d3c4f5a",
    "username": "boris",
    "email": "boris@example.com",
    "phone": "",
    "first_name": "Boris",
    "last_name": "",
    "date_joined": "2026-02-05T10:02:33+00:00",
    "code": "P4X8N2QR",
}


def _page(*rows: object) -> dict[str, object]:
    return {"count": len(rows), "next": None, "previous": None, "results": list(rows)}


@extend_schema_view(
    get=extend_schema(
        summary="My direct referrals",
        tags=["Referrals"],
        examples=[OpenApiExample("One page", response_only=True, value=_page(REFERRAL))],
    )
)
class ReferralListView(ListAPIView):
    """My direct referrals, newest first."""

    serializer_class = ReferralOutputSerializer
    query_serializer_class = ReferralListQuerySerializer

    def get_queryset(self):
        return referral_list_direct(
            user=authenticated_user(self.request), search=_search(self.request)
        )


@extend_schema_view(get=extend_schema(summary="Direct referrals of a user", tags=["Referrals"]))
class UserReferralListView(ListAPIView):
    """Direct referrals of a user: for that user, anyone in their upline, and staff."""

    serializer_class = ReferralOutputSerializer
    query_serializer_class = ReferralListQuerySerializer

    def get_queryset(self):
        return referral_list_for_user(
            viewer=authenticated_user(self.request),
            target_uuid=self.kwargs["uuid"],
            search=_search(self.request),
        )


@extend_schema_view(
    get=extend_schema(
        summary="My downline, level by level",
        tags=["Referrals"],
        examples=[
            OpenApiExample(
                "Two levels",
                response_only=True,
                value=_page(
                    {
                        "uuid": REFERRAL["uuid"],
                        "username": "boris",
                        "level": 1,
                        "referred_by_uuid": "9b1f48c0-6b6e-4b2a-a7f3-1e5f2d3c4b5a",
                        "date_joined": "2026-02-05T10:02:33+00:00",
                    },
                    {
                        "uuid": "e8a1b2c3-d4e5-4f60-8a7b-9c0d1e2f3a4b",
                        "username": "",
                        "level": 2,
                        "referred_by_uuid": REFERRAL["uuid"],
                        "date_joined": "2026-02-06T18:40:00+00:00",
                    },
                ),
            )
        ],
    )
)
class ReferralTreeView(ListAPIView):
    """My downline to `depth` levels (1-10, default 3), by level then date joined."""

    serializer_class = DownlineOutputSerializer
    query_serializer_class = DownlineQuerySerializer

    def get_queryset(self):
        query = DownlineQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return referral_downline(
            user=authenticated_user(self.request), depth=query.validated_data["depth"]
        )


class ReferralStatsView(APIView):
    """Counts of my downline: direct, total, deepest level and each non-empty level."""

    @extend_schema(
        summary="Counts of my downline",
        tags=["Referrals"],
        responses={200: ReferralStatsOutputSerializer},
        examples=[
            OpenApiExample(
                "Three levels",
                response_only=True,
                value={
                    "direct": 3,
                    "total": 7,
                    "depth": 3,
                    "levels": [
                        {"level": 1, "count": 3},
                        {"level": 2, "count": 3},
                        {"level": 3, "count": 1},
                    ],
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        return Response(
            ReferralStatsOutputSerializer(referral_stats(user=authenticated_user(request))).data
        )


class ReferralUplineView(APIView):
    """My referrer, their referrer and so on to the root, nearest first."""

    @extend_schema(
        summary="My upline, nearest first",
        tags=["Referrals"],
        responses={200: UplineOutputSerializer(many=True)},
        examples=[
            OpenApiExample(
                "Two above me",
                response_only=True,
                value=[
                    {
                        "uuid": "3c9e2a71-0d4b-4f6e-9a1c-5b7d8e2f4a60",
                        "username": "ivan",
                        "level": 1,
                    },
                    {
                        "uuid": "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910",
                        "username": "olga",
                        "level": 2,
                    },
                ],
            )
        ],
    )
    def get(self, request: Request) -> Response:
        return Response(
            UplineOutputSerializer(
                referral_upline(user=authenticated_user(request)), many=True
            ).data
        )


@extend_validation_errors(
    [
        *INVITE_CODE_ERROR_CODES,
        AlreadyReferredError.code,
        OwnCodeError.code,
        ReferralCycleError.code,
        TreeTooDeepError.code,
        ReferralRefusedError.code,
    ],
    field_name="code",
)
class ReferrerSetView(APIView):
    """Enter an invite code after sign-up; a referrer, once set, never changes."""

    @extend_schema(
        summary="Enter an invite code after sign-up",
        tags=["Referrals"],
        request=ReferrerSetInputSerializer,
        responses={201: ReferrerSetOutputSerializer},
        examples=[
            OpenApiExample("An invite code", request_only=True, value={"code": "K7Q2M9XD"}),
            OpenApiExample(
                "My referrer, set",
                response_only=True,
                status_codes=["201"],
                value={
                    "user": "9b1f48c0-6b6e-4b2a-a7f3-1e5f2d3c4b5a",
                    "referrer": "3c9e2a71-0d4b-4f6e-9a1c-5b7d8e2f4a60",
                    "code": "K7Q2M9XD",
                },
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        payload = ReferrerSetInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = referrer_set(
            user=authenticated_user(request),
            code_value=payload.validated_data["code"],
            now=timezone.now(),
            client=ClientFacts.of(request),
        )
        return Response(ReferrerSetOutputSerializer(user).data, status=status.HTTP_201_CREATED)
