from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone
from pytest_django import Settings
from rest_framework.test import APIClient

from codes.models import ReferralCode
from tests.helpers import assert_tree_consistent, chain, client_for, code_of, invite, only_error
from tests.users.factories import UserFactory
from users.models import User

if TYPE_CHECKING:
    from tests.helpers import ApiResponse


pytestmark = pytest.mark.django_db


class TestReferralList:
    """GET /api/referrals/"""

    def test_lists_direct_referrals_newest_first(self, user: User, auth_client: APIClient) -> None:
        older = invite(user, username="older")
        newer = invite(user, username="newer", phone="+79990000001")
        invite(older)  # second level: not direct

        body = auth_client.get("/api/referrals/").json()

        assert body["count"] == 2
        assert [row["uuid"] for row in body["results"]] == [str(newer.uuid), str(older.uuid)]
        assert body["results"][0] == {
            "uuid": str(newer.uuid),
            "username": "newer",
            "email": newer.email,
            "phone": "+79990000001",
            "first_name": "Ivan",
            "last_name": "Petrov",
            "date_joined": newer.date_joined.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "code": code_of(user),
        }

    @pytest.mark.parametrize(
        "term",
        ["MARIA", "maria@", "+7999123", "Sidorova", "89991234567", "+7 (999) 123-45-67"],
    )
    def test_search_matches_username_email_phone_and_names(
        self, user: User, auth_client: APIClient, term: str
    ) -> None:
        target = invite(
            user,
            username="maria",
            email="maria@example.com",
            phone="+79991234567",
            last_name="Sidorova",
        )
        invite(user, username="other")

        results = auth_client.get("/api/referrals/", {"search": term}).json()["results"]

        assert [row["uuid"] for row in results] == [str(target.uuid)]

    def test_pages_with_page_size(self, user: User, auth_client: APIClient) -> None:
        for _ in range(3):
            invite(user)

        body = auth_client.get("/api/referrals/", {"page_size": 2}).json()

        assert (body["count"], len(body["results"])) == (3, 2)
        assert body["next"] is not None and body["previous"] is None

    def test_pages_hold_20_by_default(self, user: User, auth_client: APIClient) -> None:
        for _ in range(21):
            invite(user)

        body = auth_client.get("/api/referrals/").json()

        assert (body["count"], len(body["results"]), body["next"] is not None) == (21, 20, True)

    def test_every_page_and_past_the_last(self, user: User, auth_client: APIClient) -> None:
        invited = [invite(user) for _ in range(3)]
        newest_first = [str(referral.uuid) for referral in reversed(invited)]

        def page(number: int | str) -> ApiResponse:
            return auth_client.get("/api/referrals/", {"page_size": 2, "page": number})

        second = page(2).json()
        assert (second["count"], second["next"], second["previous"] is not None) == (3, None, True)
        assert [row["uuid"] for row in page(1).json()["results"] + second["results"]] == (
            newest_first
        )
        assert page("last").json() == second
        assert page(3).status_code == 404
        assert page("abc").status_code == 400

    def test_an_empty_list(self, auth_client: APIClient) -> None:
        body = auth_client.get("/api/referrals/").json()

        assert body == {"count": 0, "next": None, "previous": None, "results": []}
        assert auth_client.get("/api/referrals/", {"page": 2}).status_code == 404

    def test_needs_authentication(self, api_client: APIClient) -> None:
        assert api_client.get("/api/referrals/").status_code == 401


class TestReferralTree:
    """GET /api/referrals/tree/"""

    def test_lists_the_downline_by_level_then_date(self) -> None:
        root, child, grandchild = chain(3)
        second_child = invite(root)

        body = client_for(root).get("/api/referrals/tree/").json()

        assert [
            (row["uuid"], row["level"], row["referred_by_uuid"]) for row in body["results"]
        ] == [
            (str(child.uuid), 1, str(root.uuid)),
            (str(second_child.uuid), 1, str(root.uuid)),
            (str(grandchild.uuid), 2, str(child.uuid)),
        ]
        assert set(body["results"][0]) == {
            "uuid",
            "username",
            "level",
            "referred_by_uuid",
            "date_joined",
        }

    def test_depth_limits_the_levels(self) -> None:
        users = chain(5)

        body = client_for(users[0]).get("/api/referrals/tree/", {"depth": 2}).json()

        assert [row["level"] for row in body["results"]] == [1, 2]

    def test_depth_is_3_by_default(self) -> None:
        users = chain(5)

        body = client_for(users[0]).get("/api/referrals/tree/").json()

        assert [row["uuid"] for row in body["results"]] == [str(u.uuid) for u in users[1:4]]

    def test_levels_are_relative_to_me(self) -> None:
        users = chain(4)

        body = client_for(users[1]).get("/api/referrals/tree/").json()

        assert [row["level"] for row in body["results"]] == [1, 2]

    @pytest.mark.parametrize("depth", ["0", "11", "abc", "-1", "1.5", "9" * 1200])
    def test_rejects_depth_outside_1_to_10(self, auth_client: APIClient, depth: str) -> None:
        response = auth_client.get("/api/referrals/tree/", {"depth": depth})

        assert (only_error(response)["code"], only_error(response)["attr"]) == ("invalid", "depth")

    def test_breaks_ties_on_date_joined_by_id(self, user: User, auth_client: APIClient) -> None:
        moment = timezone.now() - timedelta(days=1)
        first, second = invite(user), invite(user)
        User.objects.filter(pk__in=[first.pk, second.pk]).update(date_joined=moment)

        results = auth_client.get("/api/referrals/tree/").json()["results"]

        assert [row["uuid"] for row in results] == [str(first.uuid), str(second.uuid)]


class TestReferralStats:
    """GET /api/referrals/stats/"""

    def test_counts_levels(self) -> None:
        root, child, _grandchild = chain(3)
        invite(root)
        invite(child)

        body = client_for(root).get("/api/referrals/stats/").json()

        assert body == {
            "direct": 2,
            "total": 4,
            "depth": 2,
            "levels": [{"level": 1, "count": 2}, {"level": 2, "count": 2}],
        }

    def test_empty_downline(self, auth_client: APIClient) -> None:
        assert auth_client.get("/api/referrals/stats/").json() == {
            "direct": 0,
            "total": 0,
            "depth": 0,
            "levels": [],
        }

    def test_deactivated_referrals_still_count(self, user: User, auth_client: APIClient) -> None:
        referral = invite(user)
        client_for(referral).delete("/api/users/me/")

        assert auth_client.get("/api/referrals/stats/").json()["total"] == 1
        assert auth_client.get("/api/referrals/").json()["count"] == 1


class TestReferralUpline:
    """GET /api/referrals/upline/"""

    def test_lists_ancestors_nearest_first(self) -> None:
        root, middle, leaf = chain(3)

        body = client_for(leaf).get("/api/referrals/upline/").json()

        assert body == [
            {"uuid": str(middle.uuid), "username": middle.username, "level": 1},
            {"uuid": str(root.uuid), "username": root.username, "level": 2},
        ]

    def test_a_root_has_an_empty_upline(self, auth_client: APIClient) -> None:
        assert auth_client.get("/api/referrals/upline/").json() == []


class TestUserReferralList:
    """GET /api/users/<uuid>/referrals/"""

    def test_allowed_for_the_user_the_upline_and_staff(self) -> None:
        root, middle, leaf = chain(3)
        staff = UserFactory.create(is_staff=True)

        for viewer in (middle, root, staff):
            response = client_for(viewer).get(f"/api/users/{middle.uuid}/referrals/")
            assert response.status_code == 200
            assert [row["uuid"] for row in response.json()["results"]] == [str(leaf.uuid)]

    def test_404_for_the_downline_strangers_and_unknown_users(self) -> None:
        root, middle, leaf = chain(3)
        stranger = UserFactory.create()

        for viewer, target in (
            (leaf, middle.uuid),
            (stranger, middle.uuid),
            (root, "6f1c1c53-7d4a-4c9b-9f43-1b0f1f2f3a4b"),
        ):
            response = client_for(viewer).get(f"/api/users/{target}/referrals/")
            assert response.status_code == 404
            assert only_error(response)["code"] == "not_found"


class TestReferrerSet:
    """POST /api/users/me/referrer/"""

    def test_sets_the_referrer_and_moves_my_subtree(self) -> None:
        new_root = chain(2)[1]  # someone who already has a referrer
        assert new_root.referred_by is not None
        me, my_child, my_grandchild = chain(3)
        code = code_of(new_root)

        response = client_for(me).post(
            "/api/users/me/referrer/", {"code": code.lower()}, format="json"
        )

        assert response.status_code == 201
        assert response.json() == {
            "user": str(me.uuid),
            "referrer": str(new_root.uuid),
            "code": code,
        }
        upline = client_for(my_grandchild).get("/api/referrals/upline/").json()
        assert [row["uuid"] for row in upline] == [
            str(my_child.uuid),
            str(me.uuid),
            str(new_root.uuid),
            str(new_root.referred_by.uuid),
        ]
        assert [row["level"] for row in upline] == [1, 2, 3, 4]
        assert client_for(new_root).get("/api/referrals/stats/").json()["total"] == 3
        assert_tree_consistent()

    def test_counts_a_use_of_the_code(self, user: User, auth_client: APIClient) -> None:
        referrer = UserFactory.create()

        auth_client.post("/api/users/me/referrer/", {"code": code_of(referrer)}, format="json")

        assert ReferralCode.objects.get(owner=referrer, is_active=True).uses == 1

    def test_refuses_a_second_referrer(self) -> None:
        _, me = chain(2)

        response = client_for(me).post(
            "/api/users/me/referrer/", {"code": code_of(UserFactory.create())}, format="json"
        )

        assert (only_error(response)["code"], only_error(response)["attr"]) == (
            "already_referred",
            "code",
        )

    def test_refuses_my_own_code(self, user: User, auth_client: APIClient) -> None:
        response = auth_client.post(
            "/api/users/me/referrer/", {"code": code_of(user)}, format="json"
        )

        assert only_error(response)["code"] == "own_code"
        assert ReferralCode.objects.get(owner=user, is_active=True).uses == 0

    def test_refuses_an_unknown_code(self, auth_client: APIClient) -> None:
        response = auth_client.post(
            "/api/users/me/referrer/", {"code": "NOSUCHCODE"}, format="json"
        )

        assert (only_error(response)["code"], only_error(response)["attr"]) == ("invalid", "code")

    def test_refuses_a_code_from_my_downline(self) -> None:
        me, _child, grandchild = chain(3)

        response = client_for(me).post(
            "/api/users/me/referrer/", {"code": code_of(grandchild)}, format="json"
        )

        assert only_error(response)["code"] == "cycle"
        assert_tree_consistent()

    @pytest.mark.parametrize(
        ("update", "expected"),
        [
            ({"expires_at": "2020-01-01T00:00Z"}, "expired"),
            ({"max_uses": 1, "uses": 1}, "used_up"),
            ({"is_active": False}, "invalid"),
        ],
    )
    def test_refuses_unusable_codes(
        self, auth_client: APIClient, update: dict, expected: str
    ) -> None:
        owner = UserFactory.create()
        ReferralCode.objects.filter(owner=owner).update(**update)

        response = auth_client.post(
            "/api/users/me/referrer/",
            {
                "code": code_of(owner)
                if "is_active" not in update
                else ReferralCode.objects.get(owner=owner).code
            },
            format="json",
        )

        assert only_error(response)["code"] == expected

    def test_refuses_a_chain_deeper_than_the_limit(self, settings: Settings) -> None:
        settings.REFERRAL_MAX_DEPTH = 3
        deep = chain(4)[-1]  # depth 3
        me, _child = chain(2)

        response = client_for(me).post(
            "/api/users/me/referrer/", {"code": code_of(deep)}, format="json"
        )

        assert only_error(response)["code"] == "too_deep"
        assert_tree_consistent()

    def test_needs_authentication(self, api_client: APIClient) -> None:
        assert (
            api_client.post("/api/users/me/referrer/", {"code": "X"}, format="json").status_code
            == 401
        )
