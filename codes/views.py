from typing import Any

from django.http import HttpResponseRedirect
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from codes.errors import (
    CodeEmailNoAddressError,
    CodeExpiresInPastError,
    CodeInvalidError,
    CodeMaxUsesBelowUsesError,
    CodeNoActiveError,
    CodeTakenError,
)
from codes.selectors import (
    code_get_for_owner,
    code_list_for_owner,
    code_normalize,
    code_public_get,
)
from codes.serializers import (
    CodeCreateInputSerializer,
    CodeOutputSerializer,
    CodeUpdateInputSerializer,
    PublicCodeOutputSerializer,
)
from codes.services import code_delete, code_email_send, code_issue, code_update, share_link_visit
from common.errors import EmailUnavailableError
from common.network import client_ip, is_crawler, network_prefix, user_agent_hash
from common.openapi import ErrorResponse503Serializer, error_example
from common.throttles import AnonThrottle, ScopedIPThrottle, ScopedUserThrottle, UserThrottle
from users.authentication import authenticated_user

CODE = {
    "code": "P4X8N2QR",
    "is_active": True,
    "expires_at": "2026-03-06T08:51:14+00:00",
    "max_uses": 100,
    "uses": 3,
    "created_at": "2026-02-04T08:51:14+00:00",
    "share_url": "https://app.example.com/?ref=P4X8N2QR",
}


@extend_schema_view(
    get=extend_schema(
        summary="My referral codes",
        tags=["Referral codes"],
        examples=[
            OpenApiExample(
                "One page",
                response_only=True,
                value={"count": 1, "next": None, "previous": None, "results": [CODE]},
            )
        ],
    )
)
@extend_validation_errors([CodeTakenError.code], field_name="code", methods=["post"])
@extend_validation_errors([CodeExpiresInPastError.code], field_name="expires_at", methods=["post"])
class CodeListCreateView(ListAPIView):
    """My referral codes, newest first; POST creates a new active code."""

    serializer_class = CodeOutputSerializer

    def get_queryset(self):
        return code_list_for_owner(owner=authenticated_user(self.request))

    @extend_schema(
        summary="Create my new referral code",
        tags=["Referral codes"],
        request=CodeCreateInputSerializer,
        responses={201: CodeOutputSerializer},
        examples=[
            OpenApiExample(
                "Generated, for 30 days, 100 uses",
                request_only=True,
                value={"live_days": 30, "max_uses": 100},
            ),
            OpenApiExample("Chosen", request_only=True, value={"code": "ANNA-2026"}),
            OpenApiExample("The new code", response_only=True, status_codes=["201"], value=CODE),
        ],
    )
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

    @extend_schema(
        summary="One of my codes", tags=["Referral codes"], responses={200: CodeOutputSerializer}
    )
    def get(self, request: Request, code: str) -> Response:
        """One of my codes, by its string (any case); 404 for a code that is not mine."""
        return Response(
            CodeOutputSerializer(
                code_get_for_owner(owner=authenticated_user(request), value=code)
            ).data
        )

    @extend_schema(
        summary="Change one of my codes",
        tags=["Referral codes"],
        request=CodeUpdateInputSerializer,
        responses={200: CodeOutputSerializer},
    )
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

    @extend_schema(summary="Delete one of my codes", tags=["Referral codes"], responses={204: None})
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

    @extend_schema(
        summary="Look up an invite code (public)",
        tags=["Referral codes"],
        responses={200: PublicCodeOutputSerializer},
        examples=[
            OpenApiExample(
                "A code a sign-up would accept",
                response_only=True,
                value={"code": "K7Q2M9XD", "referrer": {"username": "ivan"}, "expires_at": None},
            )
        ],
    )
    def get(self, request: Request, code: str) -> Response:
        return Response(
            PublicCodeOutputSerializer(code_public_get(value=code, now=timezone.now())).data
        )


class ShareLinkView(APIView):
    """A code's share link, the one `share_url` gives: counts a visit as a click (not
    HEAD requests, crawlers and link previewers, nor more than one click a minute from
    one network) and redirects (302) to the landing page, with `ref=<CODE>` when a
    sign-up would accept the code now and without it otherwise, so a stale link never
    shows an error. The click keeps the visitor's network (/24 or /64) and a hash of the
    user agent, never the address or the agent itself."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [AnonThrottle, ScopedIPThrottle]
    throttle_scope = "code_lookup"

    @extend_schema(
        operation_id="share_link_follow",
        summary="Follow a share link",
        tags=["Share links"],
        responses={
            (302, "text/html"): OpenApiResponse(
                description="To the landing page, with `ref=<CODE>` for a usable code."
            )
        },
        parameters=[
            OpenApiParameter(
                "Location",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[302],
                description="The landing page (REFERRAL_LANDING_URL, or the service's own "
                "`/invite/` as a path), with `?ref=<CODE>` when the code would be accepted "
                "at sign-up now.",
            )
        ],
    )
    def get(self, request: Request, code: str) -> HttpResponseRedirect:
        user_agent = request.headers.get("User-Agent", "")
        target = share_link_visit(
            value=code,
            network=network_prefix(client_ip(request)),
            user_agent_hash=user_agent_hash(user_agent),
            is_person=request.method == "GET" and not is_crawler(user_agent),
            now=timezone.now(),
        )
        return HttpResponseRedirect(target)


class InviteLandingView(TemplateView):
    """Where a share link lands unless REFERRAL_LANDING_URL names the frontend's page: the
    invite code, and how to sign up with it."""

    template_name = "codes/invite.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        try:
            # Only a string that can be a code is shown: the page is not a billboard for
            # whatever text a link carries.
            context["code"] = code_normalize(self.request.GET.get("ref", ""))
        except CodeInvalidError:
            context["code"] = None
        return context


@extend_validation_errors(
    [CodeNoActiveError.code, CodeEmailNoAddressError.code], field_name="non_field_errors"
)
class CodeSendEmailView(APIView):
    """Email my active code, its expiry and its share link to my email address.

    Answers 202 once the email is queued: a background worker sends it, in the language
    of this request (`Accept-Language`), and keeps trying a mail server that is down for
    `EMAIL_RETRY_HOURS`. 400 `no_active_code` when I have no active code, 400 `no_email`
    when my account has no email (signed up by phone); 503 `email_unavailable` when the
    email cannot be queued. At most `THROTTLE_SEND_EMAIL` per user (5 an hour by default).
    """

    throttle_classes = [UserThrottle, ScopedUserThrottle]
    throttle_scope = "send_email"

    @extend_schema(
        operation_id="codes_send_email",
        summary="Email me my active code",
        tags=["Referral codes"],
        request=None,
        responses={
            202: inline_serializer("CodeSendEmailOutput", {"detail": serializers.CharField()}),
            503: ErrorResponse503Serializer,
        },
        examples=[
            OpenApiExample(
                "Queued",
                value={"detail": "The email with your code is on its way."},
                response_only=True,
                status_codes=["202"],
            ),
            error_example("No active code", CodeNoActiveError),
            error_example("No email", CodeEmailNoAddressError),
            error_example("Cannot be queued", EmailUnavailableError),
        ],
    )
    def post(self, request: Request) -> Response:
        code_email_send(
            owner=authenticated_user(request),
            language=translation.get_language(),
            now=timezone.now(),
        )
        return Response(
            {"detail": _("The email with your code is on its way.")},
            status=status.HTTP_202_ACCEPTED,
        )
