from django.utils import timezone
from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from codes.errors import INVITE_CODE_ERROR_CODES
from referral.errors import AlreadyReferredError, OwnCodeError, ReferralCycleError, TreeTooDeepError
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


class ReferralListView(ListAPIView):
    """My direct referrals, newest first."""

    serializer_class = ReferralOutputSerializer
    query_serializer_class = ReferralListQuerySerializer

    def get_queryset(self):
        return referral_list_direct(
            user=authenticated_user(self.request), search=_search(self.request)
        )


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

    @extend_schema(responses={200: ReferralStatsOutputSerializer})
    def get(self, request: Request) -> Response:
        return Response(
            ReferralStatsOutputSerializer(referral_stats(user=authenticated_user(request))).data
        )


class ReferralUplineView(APIView):
    """My referrer, their referrer and so on to the root, nearest first."""

    @extend_schema(responses={200: UplineOutputSerializer(many=True)})
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
    ],
    field_name="code",
)
class ReferrerSetView(APIView):
    """Enter an invite code after sign-up; a referrer, once set, never changes."""

    @extend_schema(request=ReferrerSetInputSerializer, responses={201: ReferrerSetOutputSerializer})
    def post(self, request: Request) -> Response:
        payload = ReferrerSetInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = referrer_set(
            user=authenticated_user(request),
            code_value=payload.validated_data["code"],
            now=timezone.now(),
        )
        return Response(ReferrerSetOutputSerializer(user).data, status=status.HTTP_201_CREATED)
