"""users.services.passwords: changing a password, and setting one through a reset link."""

from __future__ import annotations

import pytest
from django.contrib.auth.tokens import default_token_generator

from tests.helpers import run_in_parallel
from tests.users.factories import DEFAULT_PASSWORD, UserFactory
from users.errors import CurrentPasswordInvalidError, PasswordResetTokenInvalidError
from users.models import User
from users.services.passwords import user_reset_password, user_set_password

pytestmark = pytest.mark.django_db


def change_behind_the_back(user: User, **changes: object) -> User:
    """What another request may write while this one holds `user` loaded: a referrer
    and a name; returns the referrer."""
    referrer = UserFactory.create()
    User.objects.filter(pk=user.pk).update(referred_by=referrer, first_name="Changed", **changes)
    return referrer


class TestUserSetPassword:
    def test_refuses_a_wrong_current_password_and_keeps_the_old_one(self, user: User) -> None:
        with pytest.raises(CurrentPasswordInvalidError):
            user_set_password(user=user, current_password="wrong", password="An0ther-Secret!")

        user.refresh_from_db()
        assert user.check_password(DEFAULT_PASSWORD)

    def test_writes_only_the_password(self, user: User) -> None:
        """The request's user was loaded before another request changed the row: those
        changes (deactivation, a moved subtree) must survive the password change."""
        loaded = User.objects.get(pk=user.pk)
        referrer = change_behind_the_back(user, is_active=False)

        user_set_password(
            user=loaded, current_password=DEFAULT_PASSWORD, password="An0ther-Secret!"
        )

        user.refresh_from_db()
        assert user.is_active is False
        assert (user.referred_by, user.first_name) == (referrer, "Changed")
        assert user.check_password("An0ther-Secret!")


class TestUserResetPassword:
    @pytest.mark.parametrize("token", ["1-2", "wrong-token", ""])
    def test_refuses_a_wrong_token_and_keeps_the_old_password(self, user: User, token: str) -> None:
        with pytest.raises(PasswordResetTokenInvalidError):
            user_reset_password(user=user, token=token, password="Brand-new-Secret-1")

        user.refresh_from_db()
        assert user.check_password(DEFAULT_PASSWORD)

    def test_a_token_works_once(self, user: User) -> None:
        token = default_token_generator.make_token(user)
        user_reset_password(user=user, token=token, password="Brand-new-Secret-1")

        with pytest.raises(PasswordResetTokenInvalidError):
            user_reset_password(user=user, token=token, password="Second-new-Secret-1")

        user.refresh_from_db()
        assert user.check_password("Brand-new-Secret-1")

    def test_one_link_changes_the_password_once_under_concurrency(
        self, postgres_only: None, transactional_db: None
    ) -> None:
        """Two requests with one link both pass the first token check; the row lock makes
        the second see the changed password, which has spent the token."""
        user = UserFactory.create()
        token = default_token_generator.make_token(user)
        passwords = ["First-new-Secret-1", "Second-new-Secret-1"]

        results = run_in_parallel(
            [
                lambda password=password: user_reset_password(
                    user=User.objects.get(pk=user.pk), token=token, password=password
                )
                for password in passwords
            ]
        )

        refused = [r for r in results if isinstance(r, PasswordResetTokenInvalidError)]
        assert (len(refused), results.count(None)) == (1, 1)
        user.refresh_from_db()
        assert user.check_password(passwords[results.index(None)])

    def test_writes_only_the_password(self, user: User) -> None:
        token = default_token_generator.make_token(user)
        loaded = User.objects.get(pk=user.pk)
        referrer = change_behind_the_back(user)

        user_reset_password(user=loaded, token=token, password="Brand-new-Secret-1")

        user.refresh_from_db()
        assert (user.referred_by, user.first_name) == (referrer, "Changed")
        assert user.check_password("Brand-new-Secret-1")
