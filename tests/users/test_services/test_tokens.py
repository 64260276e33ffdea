"""users.services.tokens: issuing, rotating and ending refresh tokens."""

from __future__ import annotations

import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from tests.users.factories import UserFactory
from users.errors import RefreshTokenInvalidError, TokenUserInactiveError
from users.models import User
from users.services.tokens import (
    token_blacklist,
    token_refresh_rotate,
    tokens_issue,
    tokens_revoke_all,
)

pytestmark = pytest.mark.django_db


class TestTokensIssue:
    def test_records_the_refresh_token_as_outstanding_for_the_users_uuid(self, user: User) -> None:
        pair = tokens_issue(user=user)

        refresh = RefreshToken(pair.refresh)  # type: ignore[arg-type]
        assert refresh["user_id"] == str(user.uuid)
        assert OutstandingToken.objects.get(jti=refresh["jti"]).user == user


class TestTokenRefreshRotate:
    def test_gives_a_new_pair_once_per_refresh_token(self, user: User) -> None:
        refresh = str(RefreshToken.for_user(user))

        pair = token_refresh_rotate(raw_refresh=refresh)

        assert pair.refresh != refresh and pair.access
        with pytest.raises(RefreshTokenInvalidError):
            token_refresh_rotate(raw_refresh=refresh)

    def test_refuses_garbage(self) -> None:
        with pytest.raises(RefreshTokenInvalidError):
            token_refresh_rotate(raw_refresh="garbage")

    def test_refuses_an_inactive_users_token(self, user: User) -> None:
        refresh = str(RefreshToken.for_user(user))
        User.objects.filter(pk=user.pk).update(is_active=False)

        with pytest.raises(TokenUserInactiveError):
            token_refresh_rotate(raw_refresh=refresh)


class TestTokenBlacklist:
    def test_ends_the_users_refresh_token(self, user: User) -> None:
        refresh = str(RefreshToken.for_user(user))

        token_blacklist(user=user, raw_refresh=refresh)

        with pytest.raises(RefreshTokenInvalidError):
            token_refresh_rotate(raw_refresh=refresh)

    def test_refuses_another_users_token_and_ends_nothing(self, user: User) -> None:
        other = UserFactory.create()
        others_refresh = str(RefreshToken.for_user(other))

        with pytest.raises(RefreshTokenInvalidError):
            token_blacklist(user=user, raw_refresh=others_refresh)

        assert not BlacklistedToken.objects.exists()

    def test_refuses_garbage(self, user: User) -> None:
        with pytest.raises(RefreshTokenInvalidError):
            token_blacklist(user=user, raw_refresh="garbage")


class TestTokensRevokeAll:
    def test_blacklists_every_outstanding_token_of_the_user_only(self, user: User) -> None:
        for _ in range(2):
            RefreshToken.for_user(user)
        others_refresh = RefreshToken.for_user(UserFactory.create())

        tokens_revoke_all(user=user)

        assert BlacklistedToken.objects.filter(token__user=user).count() == 2
        assert not BlacklistedToken.objects.filter(token__jti=others_refresh["jti"]).exists()
