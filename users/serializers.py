from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from djoser import utils as djoser_utils
from djoser.serializers import PasswordResetConfirmSerializer
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import get_error_detail

from users.models import User
from users.phones import InvalidPhoneError, phone_normalize


class PhoneField(serializers.CharField):
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


class UsernameField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 150)
        kwargs.setdefault("validators", [UnicodeUsernameValidator()])
        super().__init__(**kwargs)


def _validate_password_for(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError({"password": get_error_detail(exc)}) from exc


class UserRegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)
    username = UsernameField(required=False, allow_blank=True)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    middle_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    phone = PhoneField(required=False, allow_blank=True)
    referral_code = serializers.CharField(required=False, allow_blank=True, max_length=32)

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
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    middle_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    email = serializers.EmailField(required=False, max_length=254)
    phone = PhoneField(required=False)


class ActiveCodeOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    share_url = serializers.CharField()


class ReferrerOutputSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    username = serializers.CharField()
    code = serializers.CharField()


class UserProfileOutputSerializer(serializers.Serializer):
    """The signed-in user's profile; takes a user from users.selectors.user_profile_get."""

    uuid = serializers.UUIDField()
    email = serializers.SerializerMethodField()
    username = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    middle_name = serializers.CharField()
    is_business_user = serializers.BooleanField()
    date_joined = serializers.DateTimeField()
    referral_code = serializers.SerializerMethodField()
    referred_by = serializers.SerializerMethodField()
    referrals_count = serializers.IntegerField()

    def get_email(self, user: User) -> str:
        return user.email or ""

    def get_username(self, user: User) -> str:
        return user.username or ""

    def get_phone(self, user: User) -> str:
        return user.phone or ""

    @extend_schema_field(ActiveCodeOutputSerializer(allow_null=True))
    def get_referral_code(self, user: User) -> dict[str, Any] | None:
        if user.active_code is None:  # type: ignore[attr-defined]
            return None
        return ActiveCodeOutputSerializer(
            {
                "code": user.active_code,  # type: ignore[attr-defined]
                "expires_at": user.active_code_expires_at,  # type: ignore[attr-defined]
                "share_url": settings.SHARE_URL_TEMPLATE.format(code=user.active_code),  # type: ignore[attr-defined]
            }
        ).data

    @extend_schema_field(ReferrerOutputSerializer(allow_null=True))
    def get_referred_by(self, user: User) -> dict[str, Any] | None:
        referrer = user.referred_by
        if referrer is None:
            return None
        code = user.referred_with_code
        return {
            "uuid": str(referrer.uuid),
            "username": referrer.username or "",
            "code": code.code if code else "",
        }


class TokenLogoutInputSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class PasswordResetConfirmInputSerializer(PasswordResetConfirmSerializer):
    """djoser's reset confirmation, with the user's UUID in `uid` (see users.emails)."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            user_uuid = uuid.UUID(djoser_utils.decode_uid(self.initial_data.get("uid", "")))
            user = User.objects.get(uuid=user_uuid)
        except (User.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
            raise serializers.ValidationError(
                {"uid": [self.error_messages["invalid_uid"]]}, code="invalid_uid"
            ) from exc
        # djoser looks the user up by primary key; hand it the one we resolved.
        self.initial_data = {**self.initial_data, "uid": djoser_utils.encode_uid(user.pk)}
        return super().validate(attrs)
