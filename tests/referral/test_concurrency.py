"""Races settled by the database: these run real threads on separate Postgres connections."""

from __future__ import annotations

import pytest
from django.utils import timezone

from codes.errors import CodeUsedUpError
from codes.models import ReferralCode
from codes.services import code_issue
from referral.errors import ReferralCycleError
from referral.models import TreeNode
from referral.services import referrer_set
from tests.helpers import (
    assert_tree_consistent,
    chain,
    code_of,
    position,
    run_in_parallel,
    wait_for_a_blocked_lock,
)
from tests.users.factories import UserFactory
from users.models import User
from users.services.accounts import user_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


def test_parallel_signups_with_a_limited_code_admit_exactly_max_uses() -> None:
    owner = UserFactory.create()
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
    anna, boris = UserFactory.create(), UserFactory.create()
    anna_code, boris_code = code_of(anna), code_of(boris)

    results = run_in_parallel(
        [
            lambda: referrer_set(user=anna, code_value=boris_code, now=timezone.now()),
            lambda: referrer_set(user=boris, code_value=anna_code, now=timezone.now()),
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
            lambda: referrer_set(user=x, code_value=code_of(y_leaf), now=timezone.now()),
            lambda: referrer_set(user=y, code_value=code_of(x_leaf), now=timezone.now()),
        ]
    )

    assert sum(isinstance(r, User) for r in results) == 1
    assert sum(isinstance(r, ReferralCycleError) for r in results) == 1
    assert_tree_consistent()


def test_signups_under_a_tree_being_moved_land_on_the_new_paths() -> None:
    target = UserFactory.create()
    mover, mover_child = chain(2)
    child_code = code_of(mover_child)

    results = run_in_parallel(
        [lambda: referrer_set(user=mover, code_value=code_of(target), now=timezone.now())]
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
    assert TreeNode.objects.filter(path__startswith=position(target).subtree_prefix).count() == 8


def test_two_parallel_code_creations_leave_one_active_code() -> None:
    owner = UserFactory.create(referral_code=None)
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

    refresh = str(RefreshToken.for_user(UserFactory.create()))

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


def test_a_signup_waits_for_the_owners_deactivation_and_is_then_refused() -> None:
    """While the owner's deactivation is uncommitted, a sign-up with their code must wait
    for it (the owner's advisory lock), then see the owner inactive. Without the lock it
    would attach to the owner at once."""
    import threading

    from django.db import connection, transaction

    from codes.errors import CodeInvalidError
    from users.services.accounts import user_deactivate

    owner = UserFactory.create()
    code = code_of(owner)
    deactivated, release = threading.Event(), threading.Event()

    def deactivate() -> None:
        with transaction.atomic():
            user_deactivate(user=User.objects.get(pk=owner.pk))
            deactivated.set()
            assert release.wait(timeout=30)
        connection.close()

    holder = threading.Thread(target=deactivate)
    holder.start()
    assert deactivated.wait(timeout=30)
    outcome: list[object] = []

    def sign_up() -> None:
        try:
            outcome.append(
                user_create(
                    email="racer@example.com", password="x", referral_code=code, now=timezone.now()
                )
            )
        except CodeInvalidError as exc:
            outcome.append(exc)
        finally:
            connection.close()

    joiner = threading.Thread(target=sign_up)
    joiner.start()
    blocked = wait_for_a_blocked_lock(watch=joiner)
    release.set()
    holder.join(timeout=30)
    joiner.join(timeout=30)

    assert blocked, "the sign-up did not wait for the deactivation"
    assert len(outcome) == 1 and isinstance(outcome[0], CodeInvalidError), outcome


def test_parallel_referrer_entries_with_a_limited_code_admit_exactly_max_uses() -> None:
    owner = UserFactory.create()
    code = code_issue(owner=owner, max_uses=3, now=timezone.now())
    entrants = [UserFactory.create() for _ in range(10)]

    results = run_in_parallel(
        [
            lambda entrant=entrant: referrer_set(
                user=entrant, code_value=code.code, now=timezone.now()
            )
            for entrant in entrants
        ]
    )

    refused = [result for result in results if not isinstance(result, User)]
    assert len(results) - len(refused) == 3
    assert all(isinstance(result, CodeUsedUpError) for result in refused), refused
    code.refresh_from_db()
    assert code.uses == 3
    assert User.objects.filter(referred_by=owner).count() == 3


def test_a_signup_with_an_unlimited_code_does_not_wait_for_another_in_flight() -> None:
    """A popular code must not become a queue: while one sign-up with it is in flight
    (redeemed, not yet committed), another with the same code runs to its commit. A row
    lock on the code held through the sign-up would make the second wait for the first."""
    import threading

    from django.db import connection, transaction

    from codes.services import code_redeem

    code = code_of(UserFactory.create())
    redeemed, second_done = threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with transaction.atomic():
            code_redeem(value=code, now=timezone.now())
            redeemed.set()
            second_done.wait(timeout=10)  # the bound of a failing run, not a pause
            order.append("first commits")
        connection.close()

    def second() -> None:
        assert redeemed.wait(timeout=30)
        user_create(
            email="second@example.com", password=None, referral_code=code, now=timezone.now()
        )
        order.append("second committed")
        second_done.set()
        connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert order == ["second committed", "first commits"]
