"""Races settled by the database: these run real threads on separate Postgres connections."""

from __future__ import annotations

import pytest
from django.utils import timezone

from codes.errors import CodeUsedUpError
from codes.models import ReferralCode
from codes.services import code_issue
from referral.errors import ReferralCycleError
from referral.services import referral_enter_code
from tests.conftest import run_in_parallel
from tests.referral.test_api import assert_tree_consistent, chain, code_of
from tests.users.factories import UserFactory
from users.models import User
from users.services import user_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


def test_parallel_signups_with_a_limited_code_admit_exactly_max_uses() -> None:
    owner = UserFactory()
    code = code_issue(owner=owner, max_uses=5, now=timezone.now())

    results = run_in_parallel(
        [
            lambda n=n: user_create(
                email=f"racer{n}@example.com",
                password="x",
                referral_code=code.code,
                now=timezone.now(),
            )
            for n in range(20)
        ]
    )

    created = [r for r in results if isinstance(r, User)]
    refused = [r for r in results if not isinstance(r, User)]
    assert len(created) == 5
    assert all(isinstance(r, CodeUsedUpError) for r in refused), refused
    code.refresh_from_db()
    assert code.uses == 5
    assert User.objects.filter(referred_by=owner).count() == 5


def test_two_users_entering_each_others_codes_at_once_link_only_one_way() -> None:
    anna, boris = UserFactory(), UserFactory()
    anna_code, boris_code = code_of(anna), code_of(boris)

    results = run_in_parallel(
        [
            lambda: referral_enter_code(user=anna, code_value=boris_code, now=timezone.now()),
            lambda: referral_enter_code(user=boris, code_value=anna_code, now=timezone.now()),
        ]
    )

    assert sum(isinstance(r, User) for r in results) == 1
    assert sum(isinstance(r, ReferralCycleError) for r in results) == 1
    assert User.objects.filter(pk__in=[anna.pk, boris.pk], referred_by__isnull=True).count() == 1
    assert_tree_consistent()


def test_crossing_moves_between_two_trees_cannot_close_a_cycle() -> None:
    # X enters a code from deep in Y's tree while Y enters one from deep in X's tree.
    x, _x_child, x_leaf = chain(3)
    y, _y_child, y_leaf = chain(3)

    results = run_in_parallel(
        [
            lambda: referral_enter_code(user=x, code_value=code_of(y_leaf), now=timezone.now()),
            lambda: referral_enter_code(user=y, code_value=code_of(x_leaf), now=timezone.now()),
        ]
    )

    assert sum(isinstance(r, User) for r in results) == 1
    assert sum(isinstance(r, ReferralCycleError) for r in results) == 1
    assert_tree_consistent()


def test_signups_under_a_tree_being_moved_land_on_the_new_paths() -> None:
    target = UserFactory()
    mover, mover_child = chain(2)
    child_code = code_of(mover_child)

    results = run_in_parallel(
        [lambda: referral_enter_code(user=mover, code_value=code_of(target), now=timezone.now())]
        + [
            lambda n=n: user_create(
                email=f"joiner{n}@example.com",
                password="x",
                referral_code=child_code,
                now=timezone.now(),
            )
            for n in range(6)
        ]
    )

    assert all(isinstance(r, User) for r in results), results
    assert_tree_consistent()
    assert User.objects.filter(tree_path__startswith=target.subtree_prefix).count() == 8


def test_two_parallel_code_creations_leave_one_active_code() -> None:
    owner = UserFactory(referral_code=None)
    ReferralCode.objects.filter(owner=owner).update(is_active=False)

    results = run_in_parallel(
        [lambda: code_issue(owner=owner, now=timezone.now()) for _ in range(2)]
    )

    assert all(isinstance(r, ReferralCode) for r in results), results
    assert ReferralCode.objects.filter(owner=owner, is_active=True).count() == 1


def test_parallel_signups_with_the_same_email_create_one_account() -> None:
    from users.errors import FieldTakenError

    results = run_in_parallel(
        [
            lambda: user_create(email="same@example.com", password="x", now=timezone.now())
            for _ in range(4)
        ]
    )

    assert sum(isinstance(r, User) for r in results) == 1
    assert all(
        isinstance(r, FieldTakenError) and r.attr == "email"
        for r in results
        if not isinstance(r, User)
    )


def test_parallel_refreshes_with_one_token_issue_one_pair() -> None:
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    refresh = str(RefreshToken.for_user(UserFactory()))

    results = run_in_parallel(
        [
            lambda: (
                APIClient()
                .post("/api/auth/jwt/refresh/", {"refresh": refresh}, format="json")
                .status_code
            )
            for _ in range(8)
        ]
    )

    assert sorted(results) == [200] + [401] * 7


def test_a_signup_racing_the_owners_deactivation_never_attaches_to_an_inactive_owner() -> None:
    from users.services import user_deactivate

    owner = UserFactory()
    code = code_of(owner)

    results = run_in_parallel(
        [
            lambda: user_create(
                email="racer@example.com", password="x", referral_code=code, now=timezone.now()
            ),
            lambda: user_deactivate(user=User.objects.get(pk=owner.pk)),
        ]
    )

    joined = results[0]
    owner.refresh_from_db()
    assert owner.is_active is False
    # Either the sign-up committed first (attached while the owner was active) or it was refused.
    assert isinstance(joined, User) or type(joined).__name__ == "CodeInvalidError", joined
