from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models import Func
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TreeRoot(Func):
    """The base-36 id of the root of a `tree_path` ("/1a/2f/" -> "1a"; "" for "/")."""

    arity = 1
    output_field = models.CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="split_part(%(expressions)s, '/', 2)")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "substr(%(expressions)s, 2, instr(substr(%(expressions)s, 2), '/') - 1)"
        return self.as_sql(compiler, connection, template=template)


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
    """An account, and its node in the referral forest.

    The tree is stored as a materialized path: `tree_path` lists the ancestors from the
    root down to the referrer, each as its base-36 id between slashes (`/` for a root,
    `/1a/2f/` for a grandchild of user 0x1a… in base 36). A subtree is one indexed prefix
    range, an upline is parsed from one row, and every referral read is a fixed number of
    queries however deep the tree grows. See README, "The referral tree".
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
    tree_path = models.TextField(default="/", editable=False)
    tree_depth = models.PositiveIntegerField(default=0, editable=False)
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
            models.CheckConstraint(
                condition=models.Q(referred_by__isnull=True, tree_depth=0, tree_path="/")
                | models.Q(referred_by__isnull=False, tree_depth__gt=0),
                name="users_user_tree_position_consistent",
            ),
        ]
        indexes = [
            models.Index(
                fields=["referred_by", "date_joined", "id"], name="users_user_referrals_idx"
            ),
            # text_pattern_ops lets `LIKE 'prefix%'` use the index under any collation;
            # with tree_depth in the key, level counts are index-only scans (Postgres only:
            # other databases ignore opclasses).
            models.Index(
                fields=["tree_path", "tree_depth"],
                opclasses=["text_pattern_ops", "int4_ops"],
                name="users_user_tree_idx",
            ),
            # A downline page in its order (level, then date joined): Postgres walks the
            # levels in order and stops after one page instead of sorting the subtree.
            models.Index(
                fields=["tree_depth", "tree_path"],
                opclasses=["int4_ops", "text_pattern_ops"],
                include=["date_joined"],
                name="users_user_downline_idx",
            ),
            # Sign-ups per day for the dashboard (referral.dashboard): each day is one
            # range of this index, counted from the index alone (Postgres).
            models.Index(
                fields=["date_joined"],
                include=["referred_with_code", "signup_channel"],
                name="users_user_joined_idx",
            ),
            # The dashboard's forest figures, each counted from a narrow index alone (the
            # wide ones above hold paths): users per level, direct referrals per referrer
            # in order, and the size of every tree, its users in order of their root.
            models.Index(fields=["tree_depth"], name="users_user_depth_idx"),
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
            models.Index(
                TreeRoot("tree_path"),
                # With the column it is computed from: Postgres reads an expression from an
                # index alone only then.
                include=["tree_path"],
                condition=models.Q(tree_depth__gt=0),
                name="users_user_root_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.email or self.phone or str(self.uuid)

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def subtree_prefix(self) -> str:
        """The `tree_path` prefix shared by every user in this user's downline."""
        return f"{self.tree_path}{to_base36(self.pk)}/"

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to the referrer; empty for a root."""
        return [int(part, 36) for part in self.tree_path.strip("/").split("/") if part]


def to_base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if number == 0:
        return "0"
    out = []
    while number:
        number, rest = divmod(number, 36)
        out.append(digits[rest])
    return "".join(reversed(out))


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
