from typing import Any
from uuid import UUID

from django.utils import timezone, translation
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from codes.errors import INVITE_CODE_ERROR_CODES
from common.network import ClientFacts
from common.openapi import AutoSchema
from common.throttles import AnonThrottle, ScopedIPThrottle, UserThrottle
from common.views import AccessByMethodView
from referral.errors import ReferralRefusedError, TreeTooDeepError
from sync.views import UserExportDetailView
from users.authentication import STAFF_ACCESS, authenticated_user
from users.emails import LinkSite
from users.errors import (
    PASSWORD_VALIDATOR_CODES,
    CurrentPasswordInvalidError,
    EmailUndeliverableError,
    FieldTakenError,
    PasswordResetTokenInvalidError,
    PhoneCodeInvalidError,
    PhoneRequiredError,
    UserAlreadyActiveError,
)
from users.selectors import user_get, user_profile_get
from users.serializers import (
    PasswordResetConfirmInputSerializer,
    PasswordResetInputSerializer,
    PasswordSetInputSerializer,
    PhoneCodeSendInputSerializer,
    PhoneCodeSentOutputSerializer,
    PhoneTokenCreateInputSerializer,
    PhoneTokenOutputSerializer,
    SmsUnavailableErrorResponseSerializer,
    TokenLogoutInputSerializer,
    UserProfileOutputSerializer,
    UserRegisterInputSerializer,
    UserRestoreOutputSerializer,
    UserUpdateInputSerializer,
)
from users.services.accounts import user_deactivate, user_register, user_update
from users.services.lifecycle import user_erase, user_restore
from users.services.passwords import (
    password_reset_email_send,
    user_reset_password,
    user_set_password,
)
from users.services.phone import phone_code_send, phone_sign_in
from users.services.tokens import token_blacklist, user_sign_in_network_record

# Example bodies, as the API answers them.
PROFILE = {
    "uuid": "9b1f48c0-6b6e-4b2a-a7f3-1e5f2d3c4b5a",
    "email": "anna@example.com",
    "username": "anna",
    "phone": "+79991234567",
    "first_name": "Anna",
    "last_name": "Petrova",
    "middle_name": "",
    "is_business_user": False,
    "date_joined": "2026-02-04T08:51:14+00:00",
    "referral_code": {
        "code": "P4X8N2QR",
        "expires_at": None,
        "share_url": "https://app.example.com/?ref=P4X8N2QR",
    },
    "referred_by": {
        "uuid": "3c9e2a71-0d4b-4f6e-9a1c-5b7d8e2f4a60",
        "username": "ivan",
        "code": "K7Q2M9XD",
    },
    "referrals_count": 3,
}
TOKENS = {
    "access": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.c2lnbmF0dXJl",
    "refresh": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl",
}


@extend_validation_errors(
    [FieldTakenError.code, EmailUndeliverableError.code], field_name="email", methods=["post"]
)
@extend_validation_errors([FieldTakenError.code], field_name="username", methods=["post"])
@extend_validation_errors([FieldTakenError.code], field_name="phone", methods=["post"])
@extend_validation_errors(PASSWORD_VALIDATOR_CODES, field_name="password", methods=["post"])
@extend_validation_errors(
    [*INVITE_CODE_ERROR_CODES, TreeTooDeepError.code, ReferralRefusedError.code],
    field_name="referral_code",
    methods=["post"],
)
class UserRegisterView(APIView):
    """Create an account with email and password, optionally with an invite code.

    The email must be deliverable (Hunter.io, when configured). Every new user gets an
    active referral code at once. Answers with the new user's profile. A sign-up with an
    invite code that looks like its owner inviting themselves is flagged for staff, or,
    where the service is set to block such sign-ups, refused with `referral_refused`.
    """

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [AnonThrottle, UserThrottle, ScopedIPThrottle]
    throttle_scope = "register"

    @extend_schema(
        operation_id="users_register",
        summary="Register an account",
        tags=["Accounts"],
        request=UserRegisterInputSerializer,
        responses={201: UserProfileOutputSerializer},
        examples=[
            OpenApiExample(
                "With an invite code",
                request_only=True,
                value={
                    "email": "anna@example.com",
                    "password": "s3cret-Passw0rd!",
                    "username": "anna",
                    "first_name": "Anna",
                    "referral_code": "K7Q2M9XD",
                },
            ),
            OpenApiExample(
                "The new account", response_only=True, status_codes=["201"], value=PROFILE
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        payload = UserRegisterInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = user_register(
            now=timezone.now(), client=ClientFacts.of(request), **payload.validated_data
        )
        return Response(
            UserProfileOutputSerializer(user_profile_get(user=user)).data,
            status=status.HTTP_201_CREATED,
        )


@extend_validation_errors(
    [FieldTakenError.code, EmailUndeliverableError.code], field_name="email", methods=["patch"]
)
@extend_validation_errors([FieldTakenError.code], field_name="username", methods=["patch"])
@extend_validation_errors(
    [FieldTakenError.code, PhoneRequiredError.code], field_name="phone", methods=["patch"]
)
class UserMeView(APIView):
    """The signed-in user's own profile."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="users_me_retrieve",
        summary="My profile",
        tags=["Accounts"],
        responses={200: UserProfileOutputSerializer},
        examples=[OpenApiExample("A referred user", response_only=True, value=PROFILE)],
    )
    def get(self, request: Request) -> Response:
        return Response(
            UserProfileOutputSerializer(user_profile_get(user=authenticated_user(request))).data
        )

    @extend_schema(
        operation_id="users_me_update",
        summary="Change my profile",
        tags=["Accounts"],
        request=UserUpdateInputSerializer,
        examples=[
            OpenApiExample(
                "New names",
                request_only=True,
                value={"first_name": "Anna", "phone": "+79991234567"},
            )
        ],
        responses={200: UserProfileOutputSerializer},
    )
    def patch(self, request: Request) -> Response:
        """Change username, names, email or phone. Other fields are read-only and ignored."""
        payload = UserUpdateInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        user = user_update(user=authenticated_user(request), changes=payload.validated_data)
        return Response(UserProfileOutputSerializer(user_profile_get(user=user)).data)

    @extend_schema(
        operation_id="users_me_deactivate",
        summary="Deactivate my account",
        tags=["Accounts"],
        responses={204: None},
    )
    def delete(self, request: Request) -> Response:
        """Deactivate my account: no sign-in, codes and tokens stop working at once."""
        user_deactivate(user=authenticated_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CredentialsSchema(AutoSchema):
    """For views that authenticate nobody yet answer 401 for bad credentials or tokens,
    which drf-standardized-errors documents only for views with authentication classes."""

    def _should_add_http401_error_response(self) -> bool:
        return True


@extend_schema(
    summary="Sign in (JWT create)",
    tags=["Authentication"],
    examples=[
        OpenApiExample(
            "Email and password",
            request_only=True,
            value={"email": "anna@example.com", "password": "s3cret-Passw0rd!"},
        ),
        OpenApiExample("A token pair", response_only=True, value=TOKENS),
    ],
)
class TokenCreateView(jwt_views.TokenObtainPairView):
    """Sign in with email and password; answers an access and a refresh token (401 for
    wrong credentials or an inactive user)."""

    schema = CredentialsSchema()
    throttle_classes = [AnonThrottle, UserThrottle, ScopedIPThrottle]
    throttle_scope = "login"

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # simplejwt's, and then the network the user signed in from is kept as their last
        # (an abuse signal for the sign-ups they refer).
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        # TokenObtainSerializer.validate sets `user`; its stubs type the serializer as a base.
        user = serializer.user  # type: ignore[attr-defined]
        user_sign_in_network_record(user=user, network=ClientFacts.of(request).network)
        return Response(serializer.validated_data, status=status.HTTP_200_OK)


@extend_schema(
    summary="Refresh the tokens (JWT refresh)",
    tags=["Authentication"],
    examples=[
        OpenApiExample("A refresh token", request_only=True, value={"refresh": TOKENS["refresh"]}),
        OpenApiExample("A new token pair", response_only=True, value=TOKENS),
    ],
)
class TokenRefreshView(jwt_views.TokenRefreshView):
    """Trade a refresh token for a new access and refresh token; the old one is ended
    (401 for an ended, expired or malformed refresh token)."""

    schema = CredentialsSchema()


@extend_schema(summary="Check a token (JWT verify)", tags=["Authentication"])
class TokenVerifyView(jwt_views.TokenVerifyView):
    """Check that a token is valid: 200 `{}`, or 401."""

    schema = CredentialsSchema()


@extend_validation_errors([CurrentPasswordInvalidError.code], field_name="current_password")
@extend_validation_errors(PASSWORD_VALIDATOR_CODES, field_name="new_password")
class PasswordSetView(APIView):
    """Change my password. Ends all my refresh tokens."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Change my password",
        tags=["Accounts"],
        request=PasswordSetInputSerializer,
        responses={204: None},
    )
    def post(self, request: Request) -> Response:
        user = authenticated_user(request)
        payload = PasswordSetInputSerializer(data=request.data, context={"user": user})
        payload.is_valid(raise_exception=True)
        user_set_password(
            user=user,
            current_password=payload.validated_data["current_password"],
            password=payload.validated_data["new_password"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(APIView):
    """Email a one-time reset link to an active user; 204 whether or not the email is
    known."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        summary="Request a password-reset email",
        tags=["Accounts"],
        request=PasswordResetInputSerializer,
        responses={204: None},
        examples=[
            OpenApiExample("An email", request_only=True, value={"email": "anna@example.com"})
        ],
    )
    def post(self, request: Request) -> Response:
        payload = PasswordResetInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        password_reset_email_send(
            email=payload.validated_data["email"],
            site=LinkSite.of(request),
            language=translation.get_language(),
            now=timezone.now(),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_validation_errors(["invalid_uid"], field_name="uid")
@extend_validation_errors([PasswordResetTokenInvalidError.code], field_name="token")
@extend_validation_errors(PASSWORD_VALIDATOR_CODES, field_name="new_password")
class PasswordResetConfirmView(APIView):
    """Set a new password with the uid and token of the reset link. Ends all the user's
    refresh tokens; a used or stale token is 400."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        summary="Set a new password from a reset link",
        tags=["Accounts"],
        request=PasswordResetConfirmInputSerializer,
        responses={204: None},
        examples=[
            OpenApiExample(
                "The link's uid and token",
                request_only=True,
                value={
                    "uid": "OWIxZjQ4YzAtNmI2ZS00YjJhLWE3ZjMtMWU1ZjJkM2M0YjVh",
                    "token": "cz2r1k-3f1e0c9b8a7d6e5f4a3b2c1d0e9f8a7b",
                    "new_password": "An0ther-Secret!",
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        payload = PasswordResetConfirmInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user_reset_password(
            user=payload.validated_data["user"],
            token=payload.validated_data["token"],
            password=payload.validated_data["new_password"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenLogoutView(APIView):
    """End one of my refresh tokens (log out). A token that is not mine, malformed or
    already ended is 401."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Sign out (end a refresh token)",
        tags=["Authentication"],
        request=TokenLogoutInputSerializer,
        responses={205: OpenApiResponse(description="The refresh token no longer works.")},
    )
    def post(self, request: Request) -> Response:
        payload = TokenLogoutInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        token_blacklist(
            user=authenticated_user(request), raw_refresh=payload.validated_data["refresh"]
        )
        return Response(status=status.HTTP_205_RESET_CONTENT)


class PhoneCodeSendView(APIView):
    """Send a one-time sign-in code to a phone by SMS.

    The code has `PHONE_CODE_LENGTH` digits (6 by default) and can be used once, for
    `expires_in` seconds, with at most 5 wrong tries; then trade it at
    `POST /api/auth/phone/token/`. The SMS is written in the request's language
    (`Accept-Language`: `en` or `ru`). Asking again for the same phone within
    `resend_after` seconds answers 429 with `Retry-After`; the new code then replaces the
    old one. When the SMS gateway fails, 503 `sms_unavailable`, and no code was kept.
    Also throttled per IP address (`THROTTLE_PHONE_CODE`).
    """

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    # Nobody is signed in here: UserThrottle would count the address a second time.
    throttle_classes = [AnonThrottle, ScopedIPThrottle]
    throttle_scope = "phone_code"

    @extend_schema(
        operation_id="auth_phone_code_send",
        summary="Send a sign-in code by SMS",
        tags=["Authentication"],
        request=PhoneCodeSendInputSerializer,
        responses={202: PhoneCodeSentOutputSerializer, 503: SmsUnavailableErrorResponseSerializer},
        examples=[
            OpenApiExample("Request", value={"phone": "+7 (999) 999-99-99"}, request_only=True),
            OpenApiExample(
                "Sent",
                value={
                    "detail": "A sign-in code was sent to this phone.",
                    "expires_in": 300,
                    "resend_after": 60,
                },
                response_only=True,
                status_codes=["202"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        payload = PhoneCodeSendInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        sent = phone_code_send(phone=payload.validated_data["phone"], now=timezone.now())
        return Response(PhoneCodeSentOutputSerializer(sent).data, status=status.HTTP_202_ACCEPTED)


@extend_validation_errors([PhoneCodeInvalidError.code], field_name="code", methods=["post"])
@extend_validation_errors(
    [*INVITE_CODE_ERROR_CODES, TreeTooDeepError.code, ReferralRefusedError.code],
    field_name="referral_code",
    methods=["post"],
)
class PhoneTokenCreateView(APIView):
    """Sign in with a phone and the code sent to it; answers an access and a refresh
    token, as `POST /api/auth/jwt/create/` does.

    The first sign-in of a phone creates its account (phone only, no password; it gets a
    referral code like every new user) and answers `created: true`; `referral_code` then
    makes that code's owner the referrer, and is refused as at registration (`invalid`,
    `expired`, `used_up`, `too_deep`, `referral_refused` on `referral_code`; the phone code
    stays usable for a retry without it). For a phone that already has an account,
    `referral_code` is ignored. A code works once: a wrong, expired or used code, a code
    after its 5th wrong try (even with the right digits), and an inactive account all
    answer 400 `invalid_code`. Throttled per IP address (`THROTTLE_LOGIN`).
    """

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [AnonThrottle, ScopedIPThrottle]
    throttle_scope = "login"

    @extend_schema(
        operation_id="auth_phone_token_create",
        summary="Sign in with a phone and its code",
        tags=["Authentication"],
        request=PhoneTokenCreateInputSerializer,
        responses={200: PhoneTokenOutputSerializer},
        examples=[
            OpenApiExample(
                "Request",
                value={"phone": "89999999999", "code": "482916", "referral_code": "K7Q2M9XD"},
                request_only=True,
            ),
            OpenApiExample(
                "Signed in",
                value={
                    "access": "eyJhbGciOiJIUzI1NiIs…",
                    "refresh": "eyJhbGciOiJIUzI1NiIs…",
                    "created": True,
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        payload = PhoneTokenCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        signed_in = phone_sign_in(
            now=timezone.now(), client=ClientFacts.of(request), **payload.validated_data
        )
        return Response(PhoneTokenOutputSerializer(signed_in).data)


class UserDetailView(AccessByMethodView, UserExportDetailView):
    """`/api/users/<uuid>/`: the tree service reads a user here with its X-API-Key (GET,
    sync's export), and staff erase one with a bearer token (DELETE). Each operation
    takes only its own credentials."""

    access_by_method = {"delete": STAFF_ACCESS}

    @extend_schema(
        operation_id="users_erase",
        tags=["Staff"],
        summary="Erase a user (staff)",
        description=(
            "Staff only (a staff user's bearer token; anyone else 403, before any lookup, "
            "so the answer tells nothing about the user; no token 401). Permanent: the "
            "user's personal data goes (email, phone, names, username, password, social "
            "accounts, tokens), their direct referrals are re-attached to the erased "
            "user's own referrer (or become roots) with their whole downlines, their "
            "codes stop working at once and their strings stay reserved, and every "
            "affected user is put on the change queue. Afterwards the user is 404 "
            "everywhere, here too. 404 for no such user, or one already erased."
        ),
        responses={204: None},
    )
    def delete(self, request: Request, uuid: UUID) -> Response:
        user_erase(user=user_get(uuid=uuid), now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_validation_errors([UserAlreadyActiveError.code], field_name="non_field_errors")
class UserRestoreView(APIView):
    """Restore a deactivated user (staff)."""

    authentication_classes = list(STAFF_ACCESS.authentication)
    permission_classes = list(STAFF_ACCESS.permissions)
    throttle_classes = list(STAFF_ACCESS.throttles)

    @extend_schema(
        operation_id="users_restore",
        tags=["Staff"],
        summary="Restore a deactivated user (staff)",
        description=(
            "Staff only (anyone else 403, before any lookup; no token 401). The user signs "
            "in again and their codes work again where still valid (not expired, used up "
            "or deleted); the tokens that deactivation ended stay dead. 400 "
            "`already_active` for an active user; 404 for no such user, or an erased one."
        ),
        request=None,
        responses={200: UserRestoreOutputSerializer},
        examples=[
            OpenApiExample(
                "Restored",
                value={"uuid": "0b6c8f5e-2f0a-4c1e-9a51-7d3e4b2a1c90", "is_active": True},
                response_only=True,
            )
        ],
    )
    def post(self, request: Request, uuid: UUID) -> Response:
        user = user_restore(user=user_get(uuid=uuid), now=timezone.now())
        return Response(UserRestoreOutputSerializer(user).data)
