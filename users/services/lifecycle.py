"""The staff's side of an account's life: restoring a deactivated account, and erasure.

Erasure keeps a tombstone: the row stays with its id, uuid, date_joined and erased_at,
and nothing else of the person (README, "Erasure"). Codes and the `referred_with_code` of
the users who signed up with them point at rows, and a code's string must never change
owner, so the rows stay; everything that names or reaches the person goes.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from codes.services import codes_invalidate_for_owner, codes_retire_for_owner
from common import locks
from referral.models import ReferredSignup
from referral.services import referral_node_remove
from social.services import social_accounts_unlink_all
from users.errors import UserAlreadyActiveError, UserNotFoundError
from users.models import PhoneCode, User


def _lock_unerased(user: User) -> User:
    """Take the owner's lock (as deactivation and code redemptions do, before any tree
    lock) and return the current row of `user`. Raises UserNotFoundError if erased."""
    locks.advisory_lock(namespace=locks.CODE_OWNER, key=user.pk)
    current = User.objects.filter(pk=user.pk, erased_at__isnull=True).first()
    if current is None:
        raise UserNotFoundError()
    return current


@transaction.atomic
def user_restore(*, user: User, now: datetime) -> User:
    """Reactivate a deactivated account: it signs in again and its codes work again where
    still valid; the tokens that deactivation ended stay dead (tokens_valid_from).
    Raises UserAlreadyActiveError, and UserNotFoundError for an erased user."""
    current = _lock_unerased(user)
    if current.is_active:
        raise UserAlreadyActiveError()
    # Tokens carry their issue time in whole seconds, so the cutoff is this second's start:
    # a token issued before deactivation in the very second of the restore (a deactivation
    # undone within that second) would survive, one issued after the restore never dies.
    valid_from = now.replace(microsecond=0)
    User.objects.filter(pk=user.pk).update(is_active=True, tokens_valid_from=valid_from)
    user.is_active, user.tokens_valid_from = True, valid_from
    codes_invalidate_for_owner(owner=user)
    return user


@transaction.atomic
def user_erase(*, user: User, now: datetime) -> None:
    """Erase `user` for good, in one transaction: their direct referrals move up to
    `user`'s referrer (or become roots) with their downlines, their codes stop working
    at once and stay reserved, and everything personal goes: contacts, names, password,
    permissions, social accounts, tokens, phone sign-in codes, the abuse signals of their
    own sign-up and their last sign-in network, the admin log's name for them. The change
    queue gets `user` (whose contacts the tombstone lost, so the export no longer shows
    them) and each moved direct referral (their referrer changed), from the database
    triggers. Raises UserNotFoundError if `user` is erased already."""
    # The owner's lock first, then the tree's: the order sign-ups take them in
    # (code_redeem, then referral_position_under). A sign-up with `user`'s code either
    # commits first, and its new user is moved with the others, or meets the code dead.
    current = _lock_unerased(user)
    referral_node_remove(user=user)
    codes_retire_for_owner(owner=user, now=now)
    social_accounts_unlink_all(user=user)
    OutstandingToken.objects.filter(user=user).delete()  # their blacklist entries go too
    if current.phone:
        PhoneCode.objects.filter(phone=current.phone).delete()  # a sign-in code's phone
    ReferredSignup.objects.filter(referee=user).delete()  # their network, their agent's hash
    user.groups.clear()
    user.user_permissions.clear()
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
    ).update(object_repr=str(user.uuid))
    User.objects.filter(pk=user.pk).update(
        email=None,
        phone=None,
        username=None,
        first_name="",
        last_name="",
        middle_name="",
        password=make_password(None),
        is_active=False,
        is_staff=False,
        is_superuser=False,
        is_business_user=False,
        last_login=None,
        last_sign_in_network=None,
        erased_at=now,
    )
    user.refresh_from_db()
