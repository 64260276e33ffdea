from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from users.models import User


class ReferralOutputSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    username = serializers.SerializerMethodField()
    email = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_joined = serializers.DateTimeField()
    code = serializers.SerializerMethodField()

    def get_username(self, user: User) -> str:
        return user.username or ""

    def get_email(self, user: User) -> str:
        return user.email or ""

    def get_phone(self, user: User) -> str:
        return user.phone or ""

    def get_code(self, user: User) -> str:
        return user.referred_with_code.code if user.referred_with_code else ""


class ReferralListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=150)


class DownlineQuerySerializer(serializers.Serializer):
    depth = serializers.IntegerField(required=False, default=3)

    def validate_depth(self, value: int) -> int:
        if not 1 <= value <= 10:
            raise serializers.ValidationError(_("depth is from 1 to 10."), code="invalid")
        return value


class DownlineOutputSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    username = serializers.SerializerMethodField()
    level = serializers.IntegerField()
    referred_by_uuid = serializers.UUIDField()
    date_joined = serializers.DateTimeField()

    def get_username(self, user: User) -> str:
        return user.username or ""


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
    username = serializers.CharField()
    level = serializers.IntegerField()


class ReferrerSetInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32)


class ReferrerSetOutputSerializer(serializers.Serializer):
    user = serializers.UUIDField(source="uuid")
    referrer = serializers.UUIDField(source="referred_by.uuid")
    code = serializers.CharField(source="referred_with_code.code")
