from django.utils import timezone
from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from codes.errors import CodeExpiresInPastError, CodeMaxUsesBelowUsesError, CodeTakenError
from codes.selectors import code_get_for_owner, code_list_for_owner, code_public_get
from codes.serializers import (
    CodeCreateInputSerializer,
    CodeOutputSerializer,
    CodeUpdateInputSerializer,
    PublicCodeOutputSerializer,
)
from codes.services import code_delete, code_issue, code_update
from common.throttles import AnonThrottle, ScopedIPThrottle
from users.authentication import authenticated_user


@extend_validation_errors([CodeTakenError.code], field_name="code", methods=["post"])
@extend_validation_errors([CodeExpiresInPastError.code], field_name="expires_at", methods=["post"])
class CodeListCreateView(ListAPIView):
    """My referral codes, newest first; POST creates a new active code."""

    serializer_class = CodeOutputSerializer

    def get_queryset(self):
        return code_list_for_owner(owner=authenticated_user(self.request))

    @extend_schema(request=CodeCreateInputSerializer, responses={201: CodeOutputSerializer})
    def post(self, request: Request) -> Response:
        """Create my new active code (generated unless `code` is given); the previous
        active code is deactivated in the same transaction."""
        payload = CodeCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        code = code_issue(
            owner=authenticated_user(request),
            now=timezone.now(),
            value=data.get("code"),
            expires_at=data.get("expires_at"),
            live_days=data.get("live_days"),
            max_uses=data.get("max_uses"),
        )
        return Response(CodeOutputSerializer(code).data, status=status.HTTP_201_CREATED)


@extend_validation_errors([CodeExpiresInPastError.code], field_name="expires_at", methods=["patch"])
@extend_validation_errors(
    [CodeMaxUsesBelowUsesError.code], field_name="max_uses", methods=["patch"]
)
class CodeDetailView(APIView):
    """One of my codes (404 for anyone else's)."""

    @extend_schema(responses={200: CodeOutputSerializer})
    def get(self, request: Request, code: str) -> Response:
        return Response(
            CodeOutputSerializer(
                code_get_for_owner(owner=authenticated_user(request), value=code)
            ).data
        )

    @extend_schema(request=CodeUpdateInputSerializer, responses={200: CodeOutputSerializer})
    def patch(self, request: Request, code: str) -> Response:
        """Change expiry, use limit or activity; re-activating deactivates my current code."""
        payload = CodeUpdateInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        updated = code_update(
            code=code_get_for_owner(owner=authenticated_user(request), value=code),
            now=timezone.now(),
            **payload.validated_data,
        )
        return Response(CodeOutputSerializer(updated).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, code: str) -> Response:
        """Delete a code: it stops working and its string stays reserved."""
        code_delete(
            code=code_get_for_owner(owner=authenticated_user(request), value=code),
            now=timezone.now(),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PublicCodeDetailView(APIView):
    """Public lookup of an invite code: 200 when a sign-up would accept it now, else 404."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [AnonThrottle, ScopedIPThrottle]
    throttle_scope = "code_lookup"

    @extend_schema(responses={200: PublicCodeOutputSerializer})
    def get(self, request: Request, code: str) -> Response:
        return Response(
            PublicCodeOutputSerializer(code_public_get(value=code, now=timezone.now())).data
        )
