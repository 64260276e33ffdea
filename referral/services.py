"""Writes to the referral tree.

Concurrency: every tree is guarded by an advisory lock on its root's id (common.locks).
Adding a user under a node takes the root's lock shared, so sign-ups into one tree run in
parallel; moving a whole tree under a new referrer takes its root's lock exclusively and
the target tree's shared, so no path is read while a move is rewriting it and two moves
can never close a cycle between them. Taking a user out of the tree (erasure) rewrites
part of one tree and takes that tree's lock exclusively. Locks are always taken in id
order, and after the code owner's lock (common.locks.CODE_OWNER) where a code is involved.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, QuerySet, TextField, Value
from django.db.models.functions import Concat, Substr

from codes.models import ReferralCode
from codes.services import code_count_use, code_redeem, code_refusals_counted
from common import locks
from common.network import UNKNOWN_NETWORK, ClientFacts
from referral.abuse import AbuseThresholds, SignupSignals, abuse_reasons
from referral.errors import (
    AlreadyReferredError,
    OwnCodeError,
    ReferralCycleError,
    ReferralRefusedError,
    TreeTooDeepError,
)
from referral.models import ReferredSignup, TreeNode, TreePosition
from referral.selectors import referral_position
from users.models import User


def _lock_trees(*, exclusive: set[int], shared: set[int]) -> None:
    for root_id in sorted(exclusive | shared):
        locks.advisory_lock(namespace=locks.TREE, key=root_id, shared=root_id not in exclusive)


def _lock_tree_of(user_id: int, *, exclusive: set[int]) -> TreePosition:
    """Lock the tree `user_id` is in (shared) until its root is stable, and return the
    user's position read under the lock."""
    position = referral_position(user_id=user_id)
    while True:
        root_id = position.root_id
        _lock_trees(exclusive=exclusive, shared={root_id} - exclusive)
        position = referral_position(user_id=user_id)
        if position.root_id == root_id:
            return position
        # The tree was moved under another between the read and the lock: lock that one
        # too and check again (locks are only released at commit).


def _lock_whole_tree_of(user_id: int) -> TreePosition:
    """Lock the tree `user_id` is in exclusively until its root is stable, and return the
    user's position read under the lock."""
    position = referral_position(user_id=user_id)
    while True:
        root_id = position.root_id
        _lock_trees(exclusive={root_id}, shared=set())
        position = referral_position(user_id=user_id)
        if position.root_id == root_id:
            return position


def _subtree(prefix: str) -> QuerySet[TreeNode]:
    return TreeNode.objects.filter(path__within=prefix)


def _subtree_move(*, old_prefix: str, new_prefix: str, delta: int) -> int:
    """Rewrite every node under `old_prefix` to lie under `new_prefix`, `delta` levels
    deeper (negative: higher), in one statement; returns how many moved."""
    return _subtree(old_prefix).update(
        path=Concat(
            Value(new_prefix), Substr("path", len(old_prefix) + 1), output_field=TextField()
        ),
        depth=F("depth") + delta,
    )


def referral_position_under(*, referrer: User) -> TreePosition:
    """Lock the referrer's tree for a new direct referral of `referrer` and return the
    referrer's position, read under the lock, for referral_node_add. Call inside the
    transaction that inserts the new user.
    Raises TreeTooDeepError when a referral of `referrer` would be too deep."""
    position = _lock_tree_of(referrer.pk, exclusive=set())
    if position.depth + 1 > settings.REFERRAL_MAX_DEPTH:
        raise TreeTooDeepError()
    return position


def referral_node_add(*, user: User, referrer: TreePosition) -> TreePosition:
    """Place `user`, just referred by the user at `referrer` (under the lock
    referral_position_under took), in the tree; returns their position."""
    node = TreeNode.objects.create(
        user=user,
        path=referrer.subtree_prefix,
        depth=referrer.depth + 1,
        date_joined=user.date_joined,
    )
    return TreePosition.of(user.pk, node)


@transaction.atomic
def referral_attach(*, user: User, code: ReferralCode, now: datetime) -> User:
    """Make the owner of `code` the referrer of `user`, who had none, moving `user`'s
    whole downline with them. The caller redeems the code and counts its use in this
    transaction.
    Raises AlreadyReferredError, OwnCodeError, ReferralCycleError, TreeTooDeepError."""
    referrer = code.owner
    if referrer.pk == user.pk:
        raise OwnCodeError()
    # A user without a referrer is the root of their own tree: lock it exclusively.
    target = _lock_tree_of(referrer.pk, exclusive={user.pk})
    user.refresh_from_db(fields=["referred_by"])
    if user.referred_by_id is not None:
        raise AlreadyReferredError()
    if target.root_id == user.pk:
        raise ReferralCycleError()

    old_prefix = TreePosition(user.pk).subtree_prefix
    delta = target.depth + 1
    deepest = _subtree(old_prefix).aggregate(deepest=Max("depth"))["deepest"]
    if (deepest or 0) + delta > settings.REFERRAL_MAX_DEPTH:
        raise TreeTooDeepError()

    user.referred_by = referrer
    user.referred_with_code = code
    user.referred_at = now
    user.save(update_fields=["referred_by", "referred_with_code", "referred_at"])
    position = referral_node_add(user=user, referrer=target)
    _subtree_move(old_prefix=old_prefix, new_prefix=position.subtree_prefix, delta=delta)
    return user


def referrer_set(
    *, user: User, code_value: str, now: datetime, client: ClientFacts | None = None
) -> User:
    """Redeem an invite code after sign-up: its owner becomes `user`'s referrer, for good,
    with the abuse signals of `client` recorded (referral_signup_record). Raises
    AlreadyReferredError, the code errors (invalid, expired, used_up), OwnCodeError,
    ReferralCycleError, ReferralRefusedError; each refusal is counted
    (code_refusals_counted)."""
    with code_refusals_counted(now=now):
        return _referrer_set(
            user=user, code_value=code_value, now=now, client=client or ClientFacts.unknown()
        )


@transaction.atomic
def _referrer_set(*, user: User, code_value: str, now: datetime, client: ClientFacts) -> User:
    if user.referred_by_id is not None:
        raise AlreadyReferredError()
    code = code_redeem(value=code_value, now=now)
    signals = referral_signals_check(code=code, client=client, email_verdict=None, now=now)
    referral_attach(user=user, code=code, now=now)
    referral_signup_record(
        referee=user, code=code, signals=signals, door=ReferredSignup.Door.REFERRER_SET, now=now
    )
    code_count_use(code=code, now=now)  # last: see code_count_use
    return user


@transaction.atomic
def referral_node_remove(*, user: User) -> int:
    """Take `user` out of the tree for good (erasure): their direct referrals move up to
    `user`'s referrer, or become roots when `user` is one, each with their whole downline,
    and `user` is left a root without referrer, code used or referrals. The downline is
    rewritten by one UPDATE of the narrow tree table (its paths lose `user`'s segment, its
    depths one level); returns how many users it moved."""
    position = _lock_whole_tree_of(user.pk)
    old_prefix = position.subtree_prefix
    moved = 0
    if position.is_root:
        # The direct referrals become roots, which have no node.
        moved, _ = TreeNode.objects.filter(path=old_prefix).delete()
    moved += _subtree_move(old_prefix=old_prefix, new_prefix=position.path, delta=-1)
    # The referrer as the position read under the lock has it: `user` may be stale (a
    # crossing erasure of their referrer committed while this one waited for the lock).
    referrer_id = position.ancestor_ids[-1] if not position.is_root else None
    User.objects.filter(referred_by=user.pk).update(referred_by=referrer_id)
    TreeNode.objects.filter(user=user.pk).delete()
    User.objects.filter(pk=user.pk).update(
        referred_by=None, referred_with_code=None, referred_at=None
    )
    user.referred_by, user.referred_with_code, user.referred_at = None, None, None
    return moved


def referral_signals_check(
    *, code: ReferralCode, client: ClientFacts, email_verdict: str | None, now: datetime
) -> SignupSignals:
    """The abuse signals of a sign-up under `code` (redeemed, with its owner) from
    `client` now. Under REFERRAL_ABUSE_POLICY=block, raises ReferralRefusedError when the
    rules (referral.abuse) flag them."""
    earlier = 0
    if client.network != UNKNOWN_NETWORK:
        # Parallel sign-ups from one network each miss the others until they commit: a
        # burst is seen a sign-up or two late, which a signal (not a limit) can afford.
        window = timedelta(seconds=settings.REFERRAL_ABUSE_BURST_WINDOW)
        earlier = ReferredSignup.objects.filter(
            code=code, network=client.network, created_at__gt=now - window, created_at__lte=now
        ).count()
    signals = SignupSignals(
        network=client.network,
        user_agent_hash=client.user_agent_hash,
        referrer_network=code.owner.last_sign_in_network,
        email_verdict=email_verdict,
        network_signups_last_hour=earlier + 1,
    )
    if settings.REFERRAL_ABUSE_POLICY == "block" and abuse_reasons(
        signals=signals, thresholds=AbuseThresholds.from_settings()
    ):
        raise ReferralRefusedError()
    return signals


def referral_signup_record(
    *,
    referee: User,
    code: ReferralCode,
    signals: SignupSignals,
    door: ReferredSignup.Door,
    now: datetime,
) -> ReferredSignup:
    """Keep the signals of `referee`'s coming under the owner of `code`, flagged with the
    rules' reasons (referral.abuse). Call in the transaction that links them."""
    reasons = abuse_reasons(signals=signals, thresholds=AbuseThresholds.from_settings())
    return ReferredSignup.objects.create(
        referee=referee,
        referrer_id=code.owner_id,
        code=code,
        created_at=now,
        door=door,
        network=signals.network,
        user_agent_hash=signals.user_agent_hash,
        is_same_network_as_referrer=signals.is_same_network_as_referrer,
        email_verdict=signals.email_verdict or "",
        network_signups_last_hour=signals.network_signups_last_hour,
        reasons=" ".join(reasons),
        is_flagged=bool(reasons),
    )


@transaction.atomic
def referral_signup_clear(*, signup: ReferredSignup, by: User, now: datetime) -> None:
    """Staff looked at a flagged sign-up and found nothing wrong: unflag it, keeping its
    reasons and who cleared it when."""
    ReferredSignup.objects.filter(pk=signup.pk, is_flagged=True).update(
        is_flagged=False, cleared_at=now, cleared_by=by
    )
