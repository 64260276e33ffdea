"""referral.services, called directly: every rule and every error (the abuse rules
themselves: test_abuse.py)."""

from __future__ import annotations

from datetime import datetime

import pytest
from pytest_django import Settings

from codes.errors import CodeExpiredError, CodeInvalidError, CodeUsedUpError
from codes.models import ReferralCode
from codes.services import code_issue
from common.network import ClientFacts
from referral.errors import (
    AlreadyReferredError,
    OwnCodeError,
    ReferralCycleError,
    ReferralRefusedError,
    TreeTooDeepError,
)
from referral.models import ReferredSignup, TreeNode, TreePosition, to_base36
from referral.services import (
    referral_attach,
    referral_node_remove,
    referral_position_under,
    referral_signals_check,
    referral_signup_clear,
    referrer_set,
)
from tests.helpers import assert_tree_consistent, chain, code_of, invite, position
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db

HOME = ClientFacts(network="203.0.113.0/24", user_agent_hash="a" * 64)


def code_row(user: User) -> ReferralCode:
    return ReferralCode.objects.select_related("owner").get(owner=user, is_active=True)


class TestReferralPositionUnder:
    def test_is_one_level_below_the_referrer(self) -> None:
        root, child = chain(2)

        under = referral_position_under(referrer=child)

        assert under == position(child)
        assert (under.depth, under.path) == (1, position(root).subtree_prefix)

    def test_refuses_a_level_past_the_limit(self, settings: Settings) -> None:
        settings.REFERRAL_MAX_DEPTH = 2
        deepest = chain(3)[-1]

        with pytest.raises(TreeTooDeepError):
            referral_position_under(referrer=deepest)


class TestReferralAttach:
    def test_moves_the_users_whole_downline_under_the_referrer(self, now: datetime) -> None:
        new_referrer = chain(2)[1]
        me, _child, grandchild = chain(3)

        referral_attach(user=me, code=code_row(new_referrer), now=now)

        me.refresh_from_db()
        grandchild.refresh_from_db()
        assert (me.referred_by, me.referred_with_code, me.referred_at) == (
            new_referrer,
            code_row(new_referrer),
            now,
        )
        assert (position(me).depth, position(grandchild).depth) == (2, 4)
        assert_tree_consistent()

    def test_refuses_the_users_own_code(self, user: User, now: datetime) -> None:
        with pytest.raises(OwnCodeError):
            referral_attach(user=user, code=code_row(user), now=now)

    def test_refuses_a_user_who_has_a_referrer(self, now: datetime) -> None:
        _, me = chain(2)

        with pytest.raises(AlreadyReferredError):
            referral_attach(user=me, code=code_row(UserFactory.create()), now=now)

    def test_refuses_a_referrer_in_the_users_downline(self, now: datetime) -> None:
        me, _child, grandchild = chain(3)

        with pytest.raises(ReferralCycleError):
            referral_attach(user=me, code=code_row(grandchild), now=now)

        assert_tree_consistent()

    def test_refuses_a_downline_that_would_pass_the_depth_limit(
        self, now: datetime, settings: Settings
    ) -> None:
        settings.REFERRAL_MAX_DEPTH = 3
        referrer = chain(2)[1]  # depth 1
        me = chain(2)[0]  # a downline one level deep: it would reach depth 3, then 4

        referral_attach(user=me, code=code_row(referrer), now=now)
        second_me = chain(3)[0]

        with pytest.raises(TreeTooDeepError):
            referral_attach(user=second_me, code=code_row(referrer), now=now)

        assert_tree_consistent()


class TestReferrerSet:
    def test_links_counts_the_use_and_keeps_the_signals(self, user: User, now: datetime) -> None:
        referrer = UserFactory.create()

        referrer_set(user=user, code_value=code_of(referrer).lower(), now=now, client=HOME)

        user.refresh_from_db()
        assert user.referred_by == referrer
        assert code_row(referrer).uses == 1
        signup = ReferredSignup.objects.get(referee=user)
        assert (signup.door, signup.network) == ("referrer_set", HOME.network)

    def test_refuses_a_second_referrer(self, now: datetime) -> None:
        _, me = chain(2)

        with pytest.raises(AlreadyReferredError):
            referrer_set(user=me, code_value=code_of(UserFactory.create()), now=now)

    def test_refuses_the_users_own_code_without_counting_a_use(
        self, user: User, now: datetime
    ) -> None:
        with pytest.raises(OwnCodeError):
            referrer_set(user=user, code_value=code_of(user), now=now)

        assert code_row(user).uses == 0

    @pytest.mark.parametrize("value", ["NOSUCHCODE", "X" * 33])
    def test_refuses_an_unknown_code(self, user: User, now: datetime, value: str) -> None:
        with pytest.raises(CodeInvalidError):
            referrer_set(user=user, code_value=value, now=now)

    def test_refuses_an_expired_code(self, user: User, now: datetime) -> None:
        owner = UserFactory.create()
        ReferralCode.objects.filter(owner=owner).update(expires_at=now)

        with pytest.raises(CodeExpiredError):
            referrer_set(user=user, code_value=code_of(owner), now=now)

    def test_refuses_a_used_up_code(self, user: User, now: datetime) -> None:
        code = code_issue(owner=UserFactory.create(), max_uses=1, now=now)
        invite(code.owner)

        with pytest.raises(CodeUsedUpError):
            referrer_set(user=user, code_value=code.code, now=now)

        assert not ReferredSignup.objects.filter(referee=user).exists()

    def test_refuses_a_flagged_sign_up_under_the_block_policy(
        self, user: User, now: datetime, settings: Settings
    ) -> None:
        settings.REFERRAL_ABUSE_POLICY = "block"
        referrer = UserFactory.create()
        User.objects.filter(pk=referrer.pk).update(last_sign_in_network=HOME.network)

        with pytest.raises(ReferralRefusedError):
            referrer_set(user=user, code_value=code_of(referrer), now=now, client=HOME)

        user.refresh_from_db()
        assert user.referred_by is None


class TestReferralSignalsCheck:
    def test_flags_but_lets_through_under_the_default_policy(self, now: datetime) -> None:
        referrer = UserFactory.create()
        User.objects.filter(pk=referrer.pk).update(last_sign_in_network=HOME.network)

        signals = referral_signals_check(
            code=code_row(referrer), client=HOME, email_verdict=None, now=now
        )

        assert (signals.is_same_network_as_referrer, signals.network_signups_last_hour) == (
            True,
            1,
        )

    def test_an_unknown_network_counts_no_earlier_sign_ups(self, now: datetime) -> None:
        signals = referral_signals_check(
            code=code_row(UserFactory.create()),
            client=ClientFacts.unknown(),
            email_verdict=None,
            now=now,
        )

        assert signals.network_signups_last_hour == 1


class TestReferralNodeRemove:
    def test_moves_the_users_referrals_up_to_its_referrer(self) -> None:
        root, middle, leaf = chain(3)
        below_leaf = invite(leaf)

        moved = referral_node_remove(user=middle)

        assert moved == 2
        leaf.refresh_from_db()
        middle.refresh_from_db()
        assert (leaf.referred_by, position(leaf).depth) == (root, 1)
        assert (middle.referred_by, middle.referred_with_code) == (None, None)
        assert position(middle) == TreePosition(middle.pk)  # a root: no node
        assert not TreeNode.objects.filter(user=middle).exists()
        assert position(below_leaf).depth == 2
        assert_tree_consistent()

    def test_a_roots_referrals_become_roots(self) -> None:
        root, child, grandchild = chain(3)

        moved = referral_node_remove(user=root)

        assert moved == 2
        child.refresh_from_db()
        assert (child.referred_by, position(child)) == (None, TreePosition(child.pk))
        assert not TreeNode.objects.filter(user=child).exists()
        assert position(grandchild) == TreePosition(grandchild.pk, f"/{to_base36(child.pk)}/", 1)
        assert_tree_consistent()


class TestReferralSignupClear:
    def test_unflags_keeping_the_reasons_and_who_cleared_it(self, now: datetime) -> None:
        referrer = UserFactory.create()
        staff = UserFactory.create(is_staff=True)
        referee = invite(referrer)
        ReferredSignup.objects.filter(referee=referee).update(
            is_flagged=True, reasons="burst_from_network"
        )
        signup = ReferredSignup.objects.get(referee=referee)

        referral_signup_clear(signup=signup, by=staff, now=now)

        signup.refresh_from_db()
        assert (signup.is_flagged, signup.reasons, signup.cleared_by, signup.cleared_at) == (
            False,
            "burst_from_network",
            staff,
            now,
        )

    def test_leaves_an_unflagged_sign_up_alone(self, now: datetime) -> None:
        signup = ReferredSignup.objects.get(referee=invite(UserFactory.create()))

        referral_signup_clear(signup=signup, by=UserFactory.create(is_staff=True), now=now)

        signup.refresh_from_db()
        assert (signup.cleared_at, signup.cleared_by) == (None, None)
