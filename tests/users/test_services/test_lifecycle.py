"""Erasure and restoring (users.services.lifecycle): what is left of an erased user, what
happens to the tree around them, and what a restored user gets back."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from codes.errors import CodeTakenError
from codes.models import ReferralCode
from codes.services import code_issue
from referral.models import TreeNode, TreePosition, to_base36
from referral.selectors import referral_stats, referral_upline
from social.models import SocialAccount
from social.services import social_account_link
from sync.models import UserChange
from sync.services import api_key_create
from tests.helpers import (
    assert_tree_consistent,
    client_for,
    code_of,
    invite,
    position,
    queued_uuids,
)
from tests.users.factories import DEFAULT_PASSWORD, UserFactory
from users.errors import UserAlreadyActiveError, UserNotFoundError
from users.models import PhoneCode, User
from users.services.accounts import user_deactivate, user_update
from users.services.lifecycle import user_erase, user_restore

pytestmark = pytest.mark.django_db


def reloaded(user: User) -> User:
    return User.objects.get(pk=user.pk)


def assert_no_referrer_erased() -> None:
    assert not User.objects.filter(referred_by__erased_at__isnull=False).exists()


class Forest:
    """root → anna → boris → carl → dina, anna → vera, root → sara (anna's sister)."""

    def __init__(self) -> None:
        self.root = UserFactory.create(username="root")
        self.anna = invite(self.root, username="anna")
        self.boris = invite(self.anna, username="boris")
        self.carl = invite(self.boris, username="carl")
        self.dina = invite(self.carl, username="dina")
        self.vera = invite(self.anna, username="vera")
        self.sara = invite(self.root, username="sara")


@pytest.fixture
def forest() -> Forest:
    return Forest()


@pytest.fixture
def key_client(db: None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key_create(name="tree-service")[1])
    return client


class TestUserEraseInTheMiddleOfATree:
    def test_moves_the_direct_referrals_up_to_the_erased_users_referrer(
        self, forest: Forest, now: datetime
    ) -> None:
        user_erase(user=forest.anna, now=now)

        assert reloaded(forest.boris).referred_by == forest.root
        assert reloaded(forest.vera).referred_by == forest.root
        assert reloaded(forest.carl).referred_by == forest.boris
        assert position(forest.dina).path == position(forest.carl).subtree_prefix
        assert position(forest.dina).depth == 3
        assert_tree_consistent()
        assert_no_referrer_erased()

    def test_leaves_the_erased_user_a_root_with_no_referrals(
        self, forest: Forest, now: datetime
    ) -> None:
        user_erase(user=forest.anna, now=now)

        anna = reloaded(forest.anna)
        assert (anna.referred_by, position(anna)) == (None, TreePosition(anna.pk))
        assert (anna.referred_with_code, anna.referred_at) == (None, None)
        assert not TreeNode.objects.filter(user=anna).exists()
        assert not TreeNode.objects.filter(path__contains=f"/{to_base36(anna.pk)}/").exists()

    def test_stats_and_upline_of_those_around_no_longer_count_the_erased_user(
        self, forest: Forest, now: datetime
    ) -> None:
        assert referral_stats(user=forest.root).total == 6

        user_erase(user=forest.anna, now=now)

        stats = referral_stats(user=reloaded(forest.root))
        assert (stats.direct, stats.total, stats.depth) == (3, 5, 3)
        assert stats.levels == [
            {"level": 1, "count": 3},
            {"level": 2, "count": 1},
            {"level": 3, "count": 1},
        ]
        upline = referral_upline(user=reloaded(forest.dina))
        assert [row["username"] for row in upline] == ["carl", "boris", "root"]
        assert [row["level"] for row in upline] == [1, 2, 3]
        assert referral_stats(user=reloaded(forest.boris)).levels == [
            {"level": 1, "count": 1},
            {"level": 2, "count": 1},
        ]

    def test_queues_the_erased_user_and_each_moved_referral_only(
        self, forest: Forest, now: datetime
    ) -> None:
        mark = len(queued_uuids())

        user_erase(user=forest.anna, now=now)

        queued = set(queued_uuids()[mark:])
        assert queued == {str(forest.anna.uuid), str(forest.boris.uuid), str(forest.vera.uuid)}

    def test_the_export_no_longer_has_the_user_and_shows_the_new_referrer(
        self, forest: Forest, now: datetime, key_client: APIClient
    ) -> None:
        user_erase(user=forest.anna, now=now)

        assert key_client.get(f"/api/users/{forest.anna.uuid}/").status_code == 404
        asked = f"{forest.anna.uuid},{forest.boris.uuid}"
        batch = key_client.get("/api/users/batch/", {"uuids": asked}).json()["results"]
        assert [row["uuid"] for row in batch] == [str(forest.boris.uuid)]
        assert batch[0]["referred_by_uuid"] == str(forest.root.uuid)
        queued_uuids()  # Postgres: fire the deferred triggers inside the test's transaction
        listed = key_client.get("/api/user-sync/").getvalue().decode()  # the streamed body
        assert str(forest.anna.uuid) in listed


class TestUserEraseOfARootAndOfALeaf:
    def test_a_roots_direct_referrals_become_roots_of_their_downlines(
        self, forest: Forest, now: datetime
    ) -> None:
        user_erase(user=forest.root, now=now)

        for new_root in (forest.anna, forest.sara):
            moved = reloaded(new_root)
            assert (moved.referred_by, position(moved)) == (None, TreePosition(moved.pk))
        assert position(forest.boris).path == position(forest.anna).subtree_prefix
        assert referral_stats(user=reloaded(forest.anna)).total == 4
        assert_tree_consistent()
        assert_no_referrer_erased()

    def test_a_leaf_leaves_its_referrer_one_referral_short(
        self, forest: Forest, now: datetime
    ) -> None:
        mark = len(queued_uuids())

        user_erase(user=forest.dina, now=now)

        assert referral_stats(user=reloaded(forest.carl)).total == 0
        assert referral_stats(user=reloaded(forest.root)).total == 5
        assert set(queued_uuids()[mark:]) == {str(forest.dina.uuid)}
        assert_tree_consistent()


class TestUserErasePersonalData:
    def test_keeps_a_tombstone_with_nothing_personal(self, now: datetime) -> None:
        user = UserFactory.create(
            email="anna@example.com",
            username="anna",
            phone="+79991234567",
            first_name="Anna",
            last_name="K",
            middle_name="M",
            is_business_user=True,
        )
        User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True, last_login=now)
        user.groups.add(Group.objects.create(name="support"))

        user_erase(user=user, now=now)

        erased = reloaded(user)
        assert (erased.email, erased.phone, erased.username) == (None, None, None)
        assert (erased.first_name, erased.last_name, erased.middle_name) == ("", "", "")
        assert not erased.has_usable_password()
        assert not (erased.is_active or erased.is_staff or erased.is_superuser)
        assert not erased.is_business_user and erased.last_login is None
        assert not erased.groups.exists()
        assert (erased.uuid, erased.date_joined, erased.erased_at) == (
            user.uuid,
            user.date_joined,
            now,
        )

    def test_deletes_social_accounts_and_tokens(self, user: User, now: datetime) -> None:
        social_account_link(user=user, network="github", link="https://github.com/anna", now=now)
        refresh = RefreshToken.for_user(user)
        refresh.blacklist()
        RefreshToken.for_user(user)

        user_erase(user=user, now=now)

        assert not SocialAccount.objects.filter(user=user).exists()
        assert not OutstandingToken.objects.filter(user=user).exists()
        assert not BlacklistedToken.objects.exists()

    def test_deletes_the_phones_sign_in_code(self, now: datetime) -> None:
        user = UserFactory.create(phone="+79991234567")
        PhoneCode.objects.create(
            phone="+79991234567", code_hash="0" * 64, created_at=now, expires_at=now
        )
        PhoneCode.objects.create(
            phone="+79997654321", code_hash="1" * 64, created_at=now, expires_at=now
        )

        user_erase(user=user, now=now)

        assert list(PhoneCode.objects.values_list("phone", flat=True)) == ["+79997654321"]

    def test_no_token_or_password_works_any_more(self, user: User, now: datetime) -> None:
        client = client_for(user)
        refresh = str(RefreshToken.for_user(user))
        email = user.email

        user_erase(user=user, now=now)

        assert client.get("/api/users/me/").status_code == 401
        anonymous = APIClient()
        refreshed = anonymous.post("/api/auth/jwt/refresh/", {"refresh": refresh})
        assert refreshed.status_code == 401
        signed_in = anonymous.post(
            "/api/auth/jwt/create/", {"email": email, "password": DEFAULT_PASSWORD}
        )
        assert signed_in.status_code == 401

    def test_the_admin_log_names_the_user_by_uuid_only(self, user: User, now: datetime) -> None:
        admin = User.objects.create_superuser(email="root@example.com", password="x")
        LogEntry.objects.create(
            user=admin,
            content_type=ContentType.objects.get_for_model(User),
            object_id=str(user.pk),
            object_repr=str(user),
            action_flag=CHANGE,
        )

        user_erase(user=user, now=now)

        assert list(LogEntry.objects.values_list("object_repr", flat=True)) == [str(user.uuid)]

    def test_refuses_a_user_erased_already(self, user: User, now: datetime) -> None:
        user_erase(user=user, now=now)

        with pytest.raises(UserNotFoundError):
            user_erase(user=user, now=now)

    def test_a_profile_change_racing_the_erasure_is_not_found(
        self, user: User, now: datetime
    ) -> None:
        loaded_before = reloaded(user)
        user_erase(user=user, now=now)

        with pytest.raises(UserNotFoundError):
            user_update(user=loaded_before, changes={"email": "back@example.com"})

        assert reloaded(user).email is None


class TestUserEraseCodes:
    def test_codes_stay_reserved_and_keep_their_history(self, now: datetime) -> None:
        owner = UserFactory.create()
        code = code_of(owner)
        referral = UserFactory.create(referral_code=code)

        user_erase(user=owner, now=now)

        kept = ReferralCode.objects.get(code=code)
        assert (kept.owner_id, kept.is_active, kept.deleted_at) == (owner.pk, False, now)
        assert reloaded(referral).referred_with_code == kept
        with pytest.raises(CodeTakenError):
            code_issue(owner=UserFactory.create(), value=code.lower(), now=now)

    def test_the_public_lookup_stops_at_once_even_when_cached(
        self,
        api_client: APIClient,
        now: datetime,
        django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    ) -> None:
        owner = UserFactory.create()
        code = code_of(owner)
        older = code_issue(owner=owner, now=now - timedelta(days=1)).code  # now the active one
        for value in (code, older):
            api_client.get(f"/api/referral-codes/{value}/")  # cached, 404 and 200

        with django_capture_on_commit_callbacks(execute=True):
            user_erase(user=owner, now=now)

        assert api_client.get(f"/api/referral-codes/{older}/").status_code == 404
        assert api_client.get(f"/api/referral-codes/{code}/").status_code == 404

    def test_a_sign_up_with_the_code_is_refused_as_invalid(
        self, api_client: APIClient, now: datetime
    ) -> None:
        owner = UserFactory.create()
        code = code_of(owner)
        user_erase(user=owner, now=now)

        response = api_client.post(
            "/api/users/",
            {"email": "late@example.com", "password": "s3cret-Passw0rd!", "referral_code": code},
        )

        assert response.status_code == 400
        assert response.json()["errors"] == [
            {
                "code": "invalid",
                "detail": "This referral code is not valid.",
                "attr": "referral_code",
            }
        ]


class TestUserRestore:
    def test_ends_the_access_tokens_issued_before_the_deactivation(self, user: User) -> None:
        old_client = client_for(user)
        user_deactivate(user=user)

        # A second later: a token from the restore's own second would survive (by design).
        user_restore(user=user, now=timezone.now() + timedelta(seconds=1))

        assert old_client.get("/api/users/me/").status_code == 401
        assert old_client.get("/api/users/me/").json()["errors"][0]["code"] == "token_not_valid"

    def test_a_token_issued_after_the_restore_works(self, user: User) -> None:
        user_deactivate(user=user)

        user_restore(user=user, now=timezone.now())

        assert client_for(reloaded(user)).get("/api/users/me/").status_code == 200

    def test_the_active_code_works_again(
        self,
        user: User,
        api_client: APIClient,
        now: datetime,
        django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    ) -> None:
        code = code_of(user)
        user_deactivate(user=user)
        assert api_client.get(f"/api/referral-codes/{code}/").status_code == 404  # cached

        with django_capture_on_commit_callbacks(execute=True):
            user_restore(user=user, now=now)

        assert api_client.get(f"/api/referral-codes/{code}/").status_code == 200
        assert UserFactory.create(referral_code=code).referred_by == user

    def test_a_code_that_expired_meanwhile_stays_refused(
        self, user: User, api_client: APIClient, now: datetime
    ) -> None:
        code = code_of(user)
        user_deactivate(user=user)
        ReferralCode.objects.filter(code=code).update(expires_at=now - timedelta(seconds=1))

        user_restore(user=user, now=now)

        assert api_client.get(f"/api/referral-codes/{code}/").status_code == 404
        response = api_client.post(
            "/api/users/",
            {"email": "late@example.com", "password": "s3cret-Passw0rd!", "referral_code": code},
        )
        assert response.json()["errors"][0]["code"] == "expired"

    def test_signs_in_again_with_its_codes_working_but_old_tokens_dead(
        self, user: User, api_client: APIClient
    ) -> None:
        code = ReferralCode.objects.get(owner=user, is_active=True).code
        old_refresh = str(RefreshToken.for_user(user))
        user_deactivate(user=user)

        user_restore(user=user, now=timezone.now())

        user.refresh_from_db()
        assert user.is_active
        assert api_client.get(f"/api/referral-codes/{code}/").status_code == 200
        refreshed = api_client.post("/api/auth/jwt/refresh/", {"refresh": old_refresh})
        assert refreshed.status_code == 401

    def test_refuses_an_active_user(self, user: User, now: datetime) -> None:
        with pytest.raises(UserAlreadyActiveError):
            user_restore(user=user, now=now)

    def test_refuses_an_erased_user(self, user: User, now: datetime) -> None:
        user_erase(user=user, now=now)

        with pytest.raises(UserNotFoundError):
            user_restore(user=user, now=now)

        assert not reloaded(user).is_active


class TestUserEraseChangeQueue:
    def test_keeps_the_erased_users_uuid(self, user: User, now: datetime) -> None:
        user_erase(user=user, now=now)

        queued_uuids()  # fires the deferred triggers
        assert UserChange.objects.filter(user_uuid=user.uuid).count() == 2  # sign-up, erasure
