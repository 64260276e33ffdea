from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from djoser import utils as djoser_utils
from rest_framework import serializers
from rest_framework.fields import get_error_detail
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from common import fields
from common.formats import format_datetime
from common.openapi import Error503Serializer, ErrorResponse503Serializer
from users.errors import UserNotFoundError
from users.models import User
from users.phones import InvalidPhoneError, phone_normalize
from users.selectors import UserProfile, user_get_by_uuid
from users.services.phone import PhoneCodeSent, PhoneSignIn


class PhoneField(fields.CharField):
    """A phone number in any common notation, validated and returned in E.164."""

    default_error_messages = {"invalid": _("Enter a valid phone number.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        raw = super().to_internal_value(data)
        if raw == "":
            return raw
        try:
            return phone_normalize(raw)
        except InvalidPhoneError:
            self.fail("invalid")
            raise  # unreachable: fail() raises


class UsernameField(fields.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 150)
        kwargs.setdefault("validators", [UnicodeUsernameValidator()])
        super().__init__(**kwargs)


def _validate_password_for(password: str, user: User, *, attr: str = "password") -> None:
    """Django's password validators, keeping their codes (`password_too_short`, …)."""
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError({attr: get_error_detail(exc)}) from exc


class UserRegisterInputSerializer(serializers.Serializer):
    email = fields.EmailField(max_length=254)
    password = fields.CharField(write_only=True, trim_whitespace=False, max_length=128)
    username = UsernameField(required=False, allow_blank=True)
    first_name = fields.CharField(required=False, allow_blank=True, max_length=150)
    last_name = fields.CharField(required=False, allow_blank=True, max_length=150)
    middle_name = fields.CharField(required=False, allow_blank=True, max_length=150)
    phone = PhoneField(required=False, allow_blank=True)
    # Any string: one no code can match is refused as `invalid` by codes.selectors.
    referral_code = fields.CharField(required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The similarity validator compares the password with these fields.
        candidate = User(
            email=attrs["email"],
            username=attrs.get("username") or None,
            first_name=attrs.get("first_name", ""),
            last_name=attrs.get("last_name", ""),
        )
        _validate_password_for(attrs["password"], candidate)
        return attrs


class UserUpdateInputSerializer(serializers.Serializer):
    username = UsernameField(required=False, allow_blank=True)
    first_name = fields.CharField(required=False, allow_blank=True, max_length=150)
    last_name = fields.CharField(required=False, allow_blank=True, max_length=150)
    middle_name = fields.CharField(required=False, allow_blank=True, max_length=150)
    email = fields.EmailField(required=False, max_length=254)
    phone = PhoneField(required=False, allow_blank=True, allow_null=True)  # "" or null clears


class ActiveCodeOutputSerializer(serializers.Serializer):
    code = fields.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    share_url = fields.CharField()


class ReferrerOutputSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    username = fields.CharField()
    code = fields.CharField()


class UserProfileOutputSerializer(serializers.Serializer):
    """The signed-in user's profile."""

    uuid = serializers.UUIDField(source="user.uuid")
    email = fields.CharField(source="user.email", help_text='"" when the user has none.')
    username = fields.CharField(source="user.username", help_text='"" when the user has none.')
    phone = fields.CharField(source="user.phone", help_text='E.164; "" when the user has none.')
    first_name = fields.CharField(source="user.first_name")
    last_name = fields.CharField(source="user.last_name")
    middle_name = fields.CharField(source="user.middle_name")
    is_business_user = serializers.BooleanField(source="user.is_business_user")
    date_joined = serializers.DateTimeField(source="user.date_joined")
    referral_code = ActiveCodeOutputSerializer(allow_null=True)
    referred_by = ReferrerOutputSerializer(allow_null=True)
    referrals_count = serializers.IntegerField()

    def to_representation(self, profile: UserProfile) -> dict[str, Any]:
        # The fields above are the documented shape; building them (DRF copies every
        # field of every serializer it instantiates) cost more CPU than the profile's
        # query, so the profile is rendered here directly (tests/users/
        # test_serializers.py holds the two to the same output).
        user, code, referrer = profile.user, profile.referral_code, profile.referred_by
        return {
            "uuid": str(user.uuid),
            "email": user.email or "",
            "username": user.username or "",
            "phone": user.phone or "",
            "first_name": user.first_name,
            "last_name": user.last_name,
            "middle_name": user.middle_name,
            "is_business_user": user.is_business_user,
            "date_joined": format_datetime(user.date_joined),
            "referral_code": None
            if code is None
            else {
                "code": code.code,
                "expires_at": format_datetime(code.expires_at),
                "share_url": code.share_url,
            },
            "referred_by": None
            if referrer is None
            else {"uuid": str(referrer.uuid), "username": referrer.username, "code": referrer.code},
            "referrals_count": profile.referrals_count,
        }


class TokenLogoutInputSerializer(serializers.Serializer):
    refresh = fields.CharField()


class PasswordSetInputSerializer(serializers.Serializer):
    """The current password and a new one for the user in `context["user"]` (against whom
    the validators compare it)."""

    current_password = fields.CharField(trim_whitespace=False)
    new_password = fields.CharField(trim_whitespace=False, max_length=128)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _validate_password_for(attrs["new_password"], self.context["user"], attr="new_password")
        return attrs


class PasswordResetInputSerializer(serializers.Serializer):
    email = fields.EmailField(max_length=254)


class PasswordResetConfirmInputSerializer(serializers.Serializer):
    """The uid and token of a reset link (users.emails) and the new password; `user` in
    the validated data is the active user the uid names (the token is the service's)."""

    uid = fields.CharField(max_length=64)
    token = fields.CharField(max_length=128)
    new_password = fields.CharField(trim_whitespace=False, max_length=128)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            user = user_get_by_uuid(uuid=djoser_utils.decode_uid(attrs["uid"]))
            if not user.is_active:
                raise UserNotFoundError()
        except (UserNotFoundError, ValueError) as exc:  # not base64, not UTF-8, no such user
            raise serializers.ValidationError(
                {"uid": _("Invalid user id or user doesn't exist.")}, code="invalid_uid"
            ) from exc
        _validate_password_for(attrs["new_password"], user, attr="new_password")
        return {**attrs, "user": user}


class PhoneCodeSendInputSerializer(serializers.Serializer):
    phone = PhoneField(help_text="Any common notation: `+7 (999) 999-99-99`, `89999999999`.")


class PhoneCodeSentOutputSerializer(serializers.Serializer):
    detail = serializers.SerializerMethodField()
    expires_in = serializers.IntegerField(help_text="Seconds the code can be used.")
    resend_after = serializers.IntegerField(
        help_text="Seconds before another code can be sent to this phone (sooner: 429)."
    )

    def get_detail(self, sent: PhoneCodeSent) -> str:
        return str(_("A sign-in code was sent to this phone."))


class PhoneTokenCreateInputSerializer(serializers.Serializer):
    phone = PhoneField(help_text="The phone the code was sent to, in any notation.")
    code = fields.CharField(max_length=32, help_text="The digits of the SMS.")
    # Any string: one no code can match is refused as `invalid` by codes.selectors.
    referral_code = fields.CharField(
        required=False,
        allow_blank=True,
        help_text="An invite code, applied when this sign-in creates the account (as at "
        "registration); ignored for a phone that already has one.",
    )


class PhoneTokenOutputSerializer(serializers.Serializer):
    access = serializers.CharField(source="tokens.access")
    refresh = serializers.CharField(source="tokens.refresh")
    created = serializers.BooleanField(help_text="Whether this sign-in created the account.")

    def to_representation(self, signed_in: PhoneSignIn) -> dict[str, Any]:
        # The fields above are the documented shape; DRF copying them for every sign-in
        # cost about a twentieth of its CPU (tests/users/test_phone_api.py holds the two
        # to the same output).
        tokens = signed_in.tokens
        return {"access": tokens.access, "refresh": tokens.refresh, "created": signed_in.created}


class SmsUnavailableErrorSerializer(Error503Serializer):
    code = serializers.ChoiceField(
        choices=[
            ("sms_unavailable", "sms_unavailable"),
            ("service_unavailable", "service_unavailable"),
        ]
    )


class SmsUnavailableErrorResponseSerializer(ErrorResponse503Serializer):
    """503: `sms_unavailable` when the SMS gateway failed (no code was kept),
    `service_unavailable` when the database or the cache is down."""

    errors = SmsUnavailableErrorSerializer(many=True)


class UserRestoreOutputSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    is_active = serializers.BooleanField()


class TokenCreateInputSerializer(TokenObtainPairSerializer):
    """simplejwt's sign-in by email and password, both strict strings (common.fields)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[self.username_field] = fields.CharField(write_only=True)
        self.fields["password"] = fields.CharField(
            write_only=True, trim_whitespace=False, style={"input_type": "password"}
        )
