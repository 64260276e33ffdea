from typing import Any

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from codes.models import CODE_CHARACTERS, CODE_MAX_LENGTH, CUSTOM_CODE_MIN_LENGTH, ReferralCode
from common import fields
from common.fields import IntegerInRangeField

# The database column is a 32-bit integer.
MAX_USES_LIMIT = 2_147_483_647

custom_code_validator = RegexValidator(
    f"^[{CODE_CHARACTERS}]{{{CUSTOM_CODE_MIN_LENGTH},{CODE_MAX_LENGTH}}}$",
    message=_("A code is 4 to 32 of the characters A-Z, a-z, 0-9, _ and -."),
    code="invalid",
)


class CodeCreateInputSerializer(serializers.Serializer):
    code = fields.CharField(required=False, validators=[custom_code_validator])
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    live_days = IntegerInRangeField(
        required=False, min_value=1, max_value=3650, message=_("live_days is from 1 to 3650.")
    )
    max_uses = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_USES_LIMIT
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("expires_at") is not None and "live_days" in attrs:
            raise serializers.ValidationError(
                {"live_days": [_("Give either expires_at or live_days, not both.")]},
                code="invalid",
            )
        return attrs


class CodeUpdateInputSerializer(serializers.Serializer):
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    max_uses = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_USES_LIMIT
    )
    is_active = serializers.BooleanField(required=False)


class CodeOutputSerializer(serializers.ModelSerializer[ReferralCode]):
    share_url = fields.CharField(read_only=True)

    class Meta:
        model = ReferralCode
        fields = [
            "code",
            "is_active",
            "expires_at",
            "max_uses",
            "uses",
            "clicks",
            "created_at",
            "share_url",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "uses": {"help_text": "Sign-ups and invite entries with this code."},
            "clicks": {
                "help_text": "Visits of the share link by people (not bots), at most one a "
                "minute from one network."
            },
        }


class PublicCodeReferrerOutputSerializer(serializers.Serializer):
    username = fields.CharField()


class PublicCodeOutputSerializer(serializers.Serializer):
    code = fields.CharField()
    referrer = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(PublicCodeReferrerOutputSerializer)
    def get_referrer(self, public_code: Any) -> dict[str, str]:
        return {"username": public_code.username}
