from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common import fields
from common.fields import IntegerInRangeField
from common.formats import format_datetime


class ReferralOutputSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    username = fields.CharField(help_text='"" when the user has none.')
    email = fields.CharField(help_text='"" when the user has none.')
    phone = fields.CharField(help_text='E.164; "" when the user has none.')
    first_name = fields.CharField()
    last_name = fields.CharField()
    date_joined = serializers.DateTimeField()
    code = fields.CharField(help_text='The invite code the user signed up with, or "".')

    def to_representation(self, referral: dict[str, Any]) -> dict[str, Any]:
        # The fields above are the documented shape; a page of rows rendered through them
        # cost more CPU than the rest of the request, so rows are rendered here directly
        # (tests/referral/test_serializers.py holds the two to the same output).
        # `referral` is a dict of referral.selectors.referral_list_direct.
        return {
            "uuid": str(referral["uuid"]),
            "username": referral["username"] or "",
            "email": referral["email"] or "",
            "phone": referral["phone"] or "",
            "first_name": referral["first_name"],
            "last_name": referral["last_name"],
            "date_joined": format_datetime(referral["date_joined"]),
            "code": referral["code"] or "",
        }


class ReferralListQuerySerializer(serializers.Serializer):
    search = fields.CharField(
        required=False,
        allow_blank=True,
        max_length=150,
        help_text="Matches username, email, phone (in any notation) and names.",
    )


class DownlineQuerySerializer(serializers.Serializer):
    depth = IntegerInRangeField(
        required=False,
        default=3,
        min_value=1,
        max_value=10,
        message=_("depth is from 1 to 10."),
        help_text="Levels below me, 1 to 10.",
    )


class DownlineOutputSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    username = serializers.CharField()  # "" for none
    level = serializers.IntegerField()
    referred_by_uuid = serializers.UUIDField()
    date_joined = serializers.DateTimeField()


class StatsLevelOutputSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    count = serializers.IntegerField()


class ReferralStatsOutputSerializer(serializers.Serializer):
    direct = serializers.IntegerField()
    total = serializers.IntegerField()
    depth = serializers.IntegerField()
    levels = StatsLevelOutputSerializer(many=True)


class UplineOutputSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    username = fields.CharField()
    level = serializers.IntegerField()


class ReferrerSetInputSerializer(serializers.Serializer):
    code = fields.CharField()  # a string no code can match is `invalid` (codes.selectors)


class ReferrerSetOutputSerializer(serializers.Serializer):
    user = serializers.UUIDField(source="uuid")
    referrer = serializers.UUIDField(source="referred_by.uuid")
    code = fields.CharField(source="referred_with_code.code")
