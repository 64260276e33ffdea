from rest_framework import serializers

from common import fields
from social.models import LINK_MAX_LENGTH, REASON_MAX_LENGTH, Network, SocialAccount


class SocialAccountLinkInputSerializer(serializers.Serializer):
    network = serializers.ChoiceField(choices=Network.choices)
    # Shape only: the link's rules (scheme, host, path) are social.links'.
    link = fields.CharField(
        max_length=LINK_MAX_LENGTH,
        help_text="An http(s) link to the profile, on one of the network's own hosts.",
    )
    reason = fields.CharField(
        required=False, allow_blank=True, max_length=REASON_MAX_LENGTH, default=""
    )


class SocialAccountUpdateInputSerializer(serializers.Serializer):
    reason = fields.CharField(allow_blank=True, max_length=REASON_MAX_LENGTH)


class SocialAccountOutputSerializer(serializers.ModelSerializer[SocialAccount]):
    class Meta:
        model = SocialAccount
        fields = ["uuid", "network", "link", "reason", "connected_at"]
        read_only_fields = fields
        extra_kwargs = {
            "link": {
                "help_text": "Normalized: scheme and host lower-cased, no www., no trailing slash."
            }
        }
