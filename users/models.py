from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    """Builds rows and nothing more. A sign-up (the first referral code, an invite code,
    the contact rules) is users.services.accounts.user_create; this is what Django's own
    tools call (`createsuperuser`): an operator's account, outside the referral programme
    until it makes a code."""

    def get_by_natural_key(self, email: str | None) -> User:
        # Emails are unique case-insensitively; the lookup uses the same Lower() index.
        return self.alias(email_lower=Lower("email")).get(email_lower=(email or "").lower())

    def create_user(
        self, email: str | None = None, password: str | None = None, **fields: Any
    ) -> User:
        user = self.model(email=self.normalize_email(email) or None, **fields)
        user.set_password(password)  # None: an unusable password
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email=email, password=password, **fields)


class SignupChannel(models.TextChoices):
    """How an account was created (users.services.accounts.user_create, the one door):
    with an email (the email sign-up, or staff adding an account with an email, a phone
    beside it or not), or with a phone and no email (phone sign-in's first sign-in, or
    staff adding a phone-only account). Recorded once: adding an email or a phone later
    does not move an account from one to the other."""

    EMAIL = "email", _("email")
    PHONE = "phone", _("phone")


class User(AbstractBaseUser, PermissionsMixin):
    """An account. `referred_by` is its referrer; where it is in the referral forest
    (the materialized path of its ancestors) is its referral.TreeNode, which only a user
    with a referrer has. See README, "The referral tree".
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Email, username and phone are optional but unique: NULL (not "") for "none", so
    # the unique constraints allow any number of users without one.
    email = models.EmailField(_("email"), null=True, blank=True)  # noqa: DJ001
    username = models.CharField(  # noqa: DJ001
        _("username"),
        max_length=150,
        null=True,
        blank=True,
        validators=[UnicodeUsernameValidator()],
    )
    phone = models.CharField(_("phone"), max_length=16, null=True, blank=True)  # noqa: DJ001
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=150, blank=True)
    is_business_user = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    referred_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        db_index=False,  # covered by users_user_referrals_idx
    )
    referred_with_code = models.ForeignKey(
        "codes.ReferralCode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    referred_at = models.DateTimeField(null=True, blank=True)
    # Set once, by users.services.lifecycle.user_erase: the row is a tombstone from then
    # on (README, "Erasure"), kept so that codes and `referred_with_code` keep their owner.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Tokens issued in an earlier second are refused (users.selectors.token_user_get):
    # restoring a deactivated account does not bring back the tokens deactivation ended.
    tokens_valid_from = models.DateTimeField(null=True, blank=True, editable=False)
    # The network (a /24 or /64, never the address) of the last sign-in with a password or
    # a phone code, for the abuse signal "referred from the referrer's own network".
    last_sign_in_network = models.CharField(  # noqa: DJ001
        max_length=43, null=True, blank=True, editable=False
    )
    # NULL for an operator's account made by `createsuperuser` (outside the programme).
    signup_channel = models.CharField(  # noqa: DJ001
        _("signed up with"),
        max_length=5,
        choices=SignupChannel.choices,
        null=True,
        blank=True,
        editable=False,
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="users_user_email_ci_unique"),
            models.UniqueConstraint(Lower("username"), name="users_user_username_ci_unique"),
            models.UniqueConstraint(fields=["phone"], name="users_user_phone_unique"),
            # "None" is NULL, never "": a second "" would collide in the unique indexes.
            models.CheckConstraint(
                condition=~models.Q(email="") & ~models.Q(username="") & ~models.Q(phone=""),
                name="users_user_no_empty_contacts",
            ),
            # Without either, an account could never sign in again; only a tombstone has
            # neither.
            models.CheckConstraint(
                condition=models.Q(email__isnull=False)
                | models.Q(phone__isnull=False)
                | models.Q(erased_at__isnull=False),
                name="users_user_has_email_or_phone",
            ),
            # A tombstone holds nothing personal, cannot sign in, and is out of the tree.
            models.CheckConstraint(
                condition=models.Q(erased_at__isnull=True)
                | models.Q(
                    email__isnull=True,
                    phone__isnull=True,
                    username__isnull=True,
                    first_name="",
                    last_name="",
                    middle_name="",
                    is_active=False,
                    is_staff=False,
                    is_superuser=False,
                    referred_by__isnull=True,
                ),
                name="users_user_erased_is_blank",
            ),
            models.CheckConstraint(
                condition=~models.Q(referred_by=models.F("id")),
                name="users_user_not_self_referred",
            ),
        ]
        indexes = [
            models.Index(
                fields=["referred_by", "date_joined", "id"], name="users_user_referrals_idx"
            ),
            # Sign-ups per day for the dashboard (referral.dashboard): each day is one
            # range of this index, counted from the index alone (Postgres).
            models.Index(
                fields=["date_joined"],
                include=["referred_with_code", "signup_channel"],
                name="users_user_joined_idx",
            ),
            # The dashboard's direct referrals per referrer, in order, from a narrow
            # index alone.
            models.Index(
                fields=["referred_by"],
                condition=models.Q(referred_by__isnull=False),
                name="users_user_referrer_idx",
            ),
            # Tombstones (all of them roots) are left out of the forest's figures.
            models.Index(
                fields=["erased_at"],
                condition=models.Q(erased_at__isnull=False),
                name="users_user_erased_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.email or self.phone or str(self.uuid)

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class PhoneCode(models.Model):
    """The live one-time sign-in code of a phone (users.services.phone): only its keyed
    hash, never the digits. At most one per phone; a new code replaces the row."""

    phone = models.CharField(max_length=16)  # E.164
    code_hash = models.CharField(max_length=64)  # HMAC-SHA256 of phone and code, hex
    attempts = models.PositiveSmallIntegerField(default=0)  # wrong tries so far
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["phone"], name="users_phonecode_phone_unique"),
        ]
        indexes = [
            # Old rows are purged by age as new codes are sent.
            models.Index(fields=["created_at"], name="users_phonecode_created_idx"),
        ]

    def __str__(self) -> str:
        return self.phone
