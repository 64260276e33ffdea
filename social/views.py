from uuid import UUID

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from social.errors import (
    SocialAccountLimitError,
    SocialLinkNetworkMismatchError,
    SocialLinkTakenError,
)
from social.selectors import social_account_get_for_user, social_account_list_for_user
from social.serializers import (
    SocialAccountLinkInputSerializer,
    SocialAccountOutputSerializer,
    SocialAccountUpdateInputSerializer,
)
from social.services import social_account_link, social_account_unlink, social_account_update
from users.authentication import authenticated_user

_ACCOUNT_EXAMPLE = {
    "uuid": "6f1c2a0e-8a53-4b8e-9d6f-3c2b1a0e9f48",
    "network": "telegram",
    "link": "https://t.me/anna_k",
    "reason": "Fastest way to reach me",
    "connected_at": "2026-02-04T08:51:14+00:00",
}


@extend_validation_errors(
    [SocialLinkNetworkMismatchError.code, SocialLinkTakenError.code, "invalid"],
    field_name="link",
    methods=["post"],
)
@extend_validation_errors(
    [SocialAccountLimitError.code], field_name="non_field_errors", methods=["post"]
)
class SocialAccountListCreateView(APIView):
    """My linked social accounts."""

    @extend_schema(
        operation_id="users_me_social_accounts_list",
        tags=["Social accounts"],
        summary="List my social accounts",
        description="Every account I linked, newest first: at most 20, so not paginated.",
        responses={200: SocialAccountOutputSerializer(many=True)},
        examples=[OpenApiExample("Linked accounts", value=[_ACCOUNT_EXAMPLE], response_only=True)],
    )
    def get(self, request: Request) -> Response:
        accounts = social_account_list_for_user(user=authenticated_user(request))
        return Response(SocialAccountOutputSerializer(accounts, many=True).data)

    @extend_schema(
        operation_id="users_me_social_accounts_create",
        tags=["Social accounts"],
        summary="Link a social account",
        description=(
            "Link an account by its profile link: an http or https URL whose host is one of "
            "the network's own (vk: vk.com, m.vk.com; telegram: t.me, telegram.me; ok: "
            "ok.ru; github: github.com; x: x.com, twitter.com; facebook: facebook.com, "
            "m.facebook.com; instagram: instagram.com; youtube: youtube.com, m.youtube.com, "
            "youtu.be; `www.` allowed), with no credentials, no port but the default, and a "
            "path naming the account. Another host is `link_network_mismatch`; anything that "
            "is not such a URL is `invalid`. The link is stored normalized (scheme and host "
            "lower-cased, no `www.`, no trailing slash), and one link is linked once, by "
            "anyone (`unique`). At most 20 per user (`too_many_accounts`)."
        ),
        request=SocialAccountLinkInputSerializer,
        responses={201: SocialAccountOutputSerializer},
        examples=[
            OpenApiExample(
                "Telegram",
                value={
                    "network": "telegram",
                    "link": "https://www.T.me/anna_k/",
                    "reason": "Fastest way to reach me",
                },
                request_only=True,
            ),
            OpenApiExample("Linked", value=_ACCOUNT_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        payload = SocialAccountLinkInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        account = social_account_link(
            user=authenticated_user(request), now=timezone.now(), **payload.validated_data
        )
        return Response(SocialAccountOutputSerializer(account).data, status=status.HTTP_201_CREATED)


class SocialAccountDetailView(APIView):
    """One of my linked social accounts (404 for anyone else's)."""

    @extend_schema(
        operation_id="users_me_social_accounts_update",
        tags=["Social accounts"],
        summary="Change why a social account is linked",
        description="Only `reason` changes; network and link stay as linked.",
        request=SocialAccountUpdateInputSerializer,
        responses={200: SocialAccountOutputSerializer},
        examples=[
            OpenApiExample("New reason", value={"reason": "Work contacts"}, request_only=True),
            OpenApiExample(
                "Changed", value={**_ACCOUNT_EXAMPLE, "reason": "Work contacts"}, response_only=True
            ),
        ],
    )
    def patch(self, request: Request, uuid: UUID) -> Response:
        payload = SocialAccountUpdateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        account = social_account_update(
            account=social_account_get_for_user(user=authenticated_user(request), uuid=uuid),
            reason=payload.validated_data["reason"],
        )
        return Response(SocialAccountOutputSerializer(account).data)

    @extend_schema(
        operation_id="users_me_social_accounts_destroy",
        tags=["Social accounts"],
        summary="Unlink a social account",
        description="The link is free to be linked again, by anyone.",
        responses={204: None},
    )
    def delete(self, request: Request, uuid: UUID) -> Response:
        social_account_unlink(
            account=social_account_get_for_user(user=authenticated_user(request), uuid=uuid)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
