"""Erasure racing the writes that touch the erased user's part of the tree, on real
threads with their own Postgres connections: never an orphan, a cycle, or a referrer
that was erased."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from codes.errors import CodeInvalidError
from referral.models import TreeNode
from referral.services import referrer_set
from tests.helpers import (
    assert_tree_consistent,
    code_of,
    invite,
    run_in_parallel,
    wait_for_a_blocked_lock,
)
from tests.users.factories import UserFactory
from users.models import User
from users.services.accounts import user_create
from users.services.lifecycle import user_erase

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


def erase(user: User) -> Callable[[], None]:
    return lambda: user_erase(user=User.objects.get(pk=user.pk), now=timezone.now())


def sign_up(n: int, code: str) -> Callable[[], User]:
    return lambda: user_create(
        email=f"racer{n}@example.com", password="x", referral_code=code, now=timezone.now()
    )


def assert_tree_sound() -> None:
    assert_tree_consistent()  # every path is what the referrer chain says: no cycle
    assert not User.objects.filter(referred_by__erased_at__isnull=False).exists()
    assert not TreeNode.objects.filter(user__erased_at__isnull=False).exists()


class Held:
    """Runs `work` in a transaction on its own thread and keeps it open until released,
    so another thread can be shown to wait for its locks."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.result: list[Any] = []
        self._done, self._release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, args=(work,))

    def _run(self, work: Callable[[], Any]) -> None:
        try:
            with transaction.atomic():
                self.result.append(work())
                self._done.set()
                assert self._release.wait(timeout=30)
        finally:
            self._done.set()
            connection.close()

    def __enter__(self) -> Held:
        self._thread.start()
        assert self._done.wait(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._thread.join(timeout=30)


class Background:
    def __init__(self, work: Callable[[], Any]) -> None:
        self.outcome: list[Any] = []

        def run() -> None:
            try:
                self.outcome.append(work())
            except Exception as exc:  # collected for the test to assert on
                self.outcome.append(exc)
            finally:
                connection.close()

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def join(self) -> Any:
        self.thread.join(timeout=30)
        assert len(self.outcome) == 1, "the thread hung"
        return self.outcome[0]


class TestErasureAndASignUpWithTheErasedUsersCode:
    def test_a_sign_up_waiting_for_the_erasure_is_refused(self) -> None:
        referrer = UserFactory.create()
        user = invite(referrer)
        code = code_of(user)

        with Held(erase(user)):
            joiner = Background(sign_up(0, code))
            blocked = wait_for_a_blocked_lock(watch=joiner.thread)

        assert blocked, "the sign-up did not wait for the erasure"
        assert isinstance(joiner.join(), CodeInvalidError)
        assert_tree_sound()

    def test_a_sign_up_committed_first_is_moved_up_with_the_others(self) -> None:
        referrer = UserFactory.create()
        user = invite(referrer)
        code = code_of(user)

        with Held(sign_up(0, code)) as signed_up:
            eraser = Background(erase(user))
            blocked = wait_for_a_blocked_lock(watch=eraser.thread)

        assert blocked, "the erasure did not wait for the sign-up"
        assert eraser.join() is None
        assert User.objects.get(pk=signed_up.result[0].pk).referred_by == referrer
        assert_tree_sound()

    def test_many_at_once_end_in_a_sound_tree(self) -> None:
        referrer = UserFactory.create()
        user = invite(referrer)
        invite(user)
        code = code_of(user)

        results = run_in_parallel([erase(user)] + [sign_up(n, code) for n in range(6)])

        assert results[0] is None
        created = [r for r in results[1:] if isinstance(r, User)]
        assert all(isinstance(r, CodeInvalidError) for r in results[1:] if r not in created)
        for joined in created:
            assert User.objects.get(pk=joined.pk).referred_by == referrer
        assert_tree_sound()


class TestErasureAndAReferrerSetIntoTheErasedUsersSubtree:
    def test_a_tree_attached_under_a_referral_of_the_erased_user_moves_up_with_them(
        self,
    ) -> None:
        referrer = UserFactory.create()
        user = invite(referrer)
        referral = invite(user)
        mover = UserFactory.create()
        invite(mover)

        results = run_in_parallel(
            [
                erase(user),
                lambda: referrer_set(user=mover, code_value=code_of(referral), now=timezone.now()),
            ]
        )

        assert results[0] is None and isinstance(results[1], User), results
        assert User.objects.get(pk=mover.pk).referred_by == User.objects.get(pk=referral.pk)
        assert User.objects.get(pk=referral.pk).referred_by == referrer
        assert_tree_sound()

    def test_a_referrer_set_with_the_erased_users_own_code_is_refused_or_moved(self) -> None:
        for attempt in range(3):
            referrer = UserFactory.create()
            user = invite(referrer)
            mover = UserFactory.create()
            code = code_of(user)

            results = run_in_parallel(
                [
                    erase(user),
                    lambda mover=mover, code=code: referrer_set(
                        user=mover, code_value=code, now=timezone.now()
                    ),
                ]
            )

            assert results[0] is None, (attempt, results)
            if isinstance(results[1], User):
                assert User.objects.get(pk=mover.pk).referred_by == referrer
            else:
                assert isinstance(results[1], CodeInvalidError), (attempt, results)
            assert_tree_sound()

    def test_crossing_erasures_in_one_chain_leave_a_sound_tree(self) -> None:
        root = UserFactory.create()
        first = invite(root)
        second = invite(first)
        third = invite(second)
        leaf = invite(third)

        results = run_in_parallel([erase(first), erase(third), erase(root)])

        assert results == [None, None, None]
        survivor = User.objects.get(pk=second.pk)
        assert survivor.referred_by is None
        assert User.objects.get(pk=leaf.pk).referred_by == survivor
        assert_tree_sound()

    def test_sign_ups_under_a_subtree_being_moved_land_on_the_new_paths(self) -> None:
        root = UserFactory.create()
        user = invite(root)
        deep = invite(invite(user))
        code = code_of(deep)

        results = run_in_parallel([erase(user)] + [sign_up(n, code) for n in range(5)])

        assert all(r is None or isinstance(r, User) for r in results), results
        assert User.objects.filter(referred_by=deep).count() == 5
        assert_tree_sound()
