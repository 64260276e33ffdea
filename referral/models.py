from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Func, Lookup, Value
from django.db.models.functions import Length, Replace
from django.utils.translation import gettext_lazy as _


def to_base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if number == 0:
        return "0"
    out = []
    while number:
        number, rest = divmod(number, 36)
        out.append(digits[rest])
    return "".join(reversed(out))


class TreeRoot(Func):
    """The base-36 id of the root of a tree path ("/1a/2f/" -> "1a"; "" for "/")."""

    arity = 1
    output_field = models.CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="split_part(%(expressions)s, '/', 2)")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "substr(%(expressions)s, 2, instr(substr(%(expressions)s, 2), '/') - 1)"
        return self.as_sql(compiler, connection, template=template)


class TreePathField(models.TextField):
    """A tree path: `/`-separated base-36 ids, with the `within` lookup."""


@TreePathField.register_lookup
class Within(Lookup):
    """`path__within=prefix`: the paths under `prefix` (a subtree prefix, ending in "/"),
    as an explicit range of the path's index. A LIKE 'prefix%' uses the index only when
    the pattern is in the statement: a prepared statement's generic plan (psycopg
    prepares a statement a connection has run five times, config.settings) gets it as a
    parameter and scans the whole table instead; a range's bounds work as parameters.
    "0" sorts right after "/", so the range ends just past the prefix's last character."""

    lookup_name = "within"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if not isinstance(self.rhs, str) or not self.rhs.endswith("/"):
            raise ValueError("path__within takes a subtree prefix, ending in '/'")
        bounds = [self.rhs, self.rhs[:-1] + "0"]
        # Byte order on both: text_pattern_ops' operators, SQLite's BINARY collation.
        low, high = ("~>=~", "~<~") if connection.vendor == "postgresql" else (">=", "<")
        return (
            f"({lhs} {low} %s AND {lhs} {high} %s)",
            [*lhs_params, bounds[0], *lhs_params, bounds[1]],
        )


class TreeNode(models.Model):
    """Where a user with a referrer is in the referral forest: a materialized path.

    `path` lists the ancestors from the root down to the referrer, each as its base-36 id
    between slashes (`/1a/2f/` for a grandchild of user 0x1a… in base 36), and `depth`
    counts them. A subtree is one indexed prefix range, an upline is parsed from one row,
    and every referral read is a fixed number of queries however deep the tree grows.

    Only users with a referrer have a node: a user without one is a root (path `/`,
    depth 0; TreePosition.of). The tree lives in this narrow table, not in users_user,
    because moving a subtree (erasure, /me/referrer/) rewrites every row below: here that
    is a short row and three index entries each, where the users table would rewrite a
    wide row and its fourteen index entries (bench/README.md, "Erasure of a large
    downline"). users_user.referred_by stays the one record of who referred whom (the
    change queue watches it); referral.services writes both in one transaction, under
    the tree's lock. See README, "The referral tree".
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="tree_node",
    )
    path = TreePathField()
    depth = models.PositiveIntegerField()
    # The user's own, copied (it never changes once the account exists): a downline page
    # is ordered by level, then date joined, from this table's index alone.
    date_joined = models.DateTimeField()

    class Meta:
        constraints = [
            # depth is the number of ancestors in path: one fewer than its slashes, at
            # least one (a root has no node).
            models.CheckConstraint(
                condition=models.Q(
                    depth=Length("path") - Length(Replace("path", Value("/"), Value(""))) - 1,
                    depth__gte=1,
                    path__startswith="/",
                    path__endswith="/",
                ),
                name="referral_treenode_depth_matches_path",
            ),
        ]
        indexes = [
            # text_pattern_ops lets `LIKE 'prefix%'` use the index under any collation;
            # with depth in the key, level counts are index-only scans (Postgres only:
            # other databases ignore opclasses).
            models.Index(
                fields=["path", "depth"],
                opclasses=["text_pattern_ops", "int4_ops"],
                name="referral_tree_path_idx",
            ),
            # A downline page in its order (level, then date joined): Postgres walks the
            # levels in order and stops after one page instead of sorting the subtree;
            # and the dashboard's users per level, one range each.
            models.Index(
                fields=["depth", "path"],
                opclasses=["int4_ops", "text_pattern_ops"],
                include=["date_joined"],
                name="referral_tree_downline_idx",
            ),
            # No index of each node's root: the dashboard's sizes of the trees read this
            # narrow table faster whole (bench/README.md), and every index costs each
            # moved node an entry.
        ]

    def __str__(self) -> str:
        return f"{self.user_id} at {self.path}"


@dataclass(frozen=True)
class TreePosition:
    """A user's place in the forest as the tree's reads and writes use it: their node's
    path and depth, or `/` and 0 for a root."""

    user_id: int
    path: str = "/"
    depth: int = 0

    @classmethod
    def of(cls, user_id: int, node: TreeNode | None) -> TreePosition:
        if node is None:
            return cls(user_id)
        return cls(user_id, node.path, node.depth)

    @property
    def is_root(self) -> bool:
        return self.depth == 0

    @property
    def subtree_prefix(self) -> str:
        """The path prefix shared by every user in this user's downline."""
        return f"{self.path}{to_base36(self.user_id)}/"

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to the referrer; empty for a root."""
        return [int(part, 36) for part in self.path.strip("/").split("/") if part]

    @property
    def root_id(self) -> int:
        ancestors = self.ancestor_ids
        return ancestors[0] if ancestors else self.user_id


class ReferredSignup(models.Model):
    """The abuse signals of one user's coming under a referrer with an invite code (at
    sign-up by email, at phone sign-in's first sign-in, or on /me/referrer/), and the
    flag the rules of referral.abuse made of them, for staff to review.

    No personal data beyond what the rules need: the network (a /24 or /64 prefix, never
    the address), a keyed hash of the user agent (never the string), and Hunter's verdict
    on the email, where one was made.
    """

    class Door(models.TextChoices):
        SIGNUP = "signup", _("sign-up by email")
        PHONE = "phone", _("phone sign-in")
        REFERRER_SET = "referrer_set", _("invite code entered later")

    referee = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referred_signup"
    )
    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    code = models.ForeignKey("codes.ReferralCode", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    door = models.CharField(max_length=12, choices=Door.choices)
    network = models.CharField(max_length=43)
    user_agent_hash = models.CharField(max_length=64, blank=True)
    is_same_network_as_referrer = models.BooleanField()
    email_verdict = models.CharField(max_length=16, blank=True)  # "" when none was made
    # Sign-ups with the same code from the same network in the hour before, this one too.
    network_signups_last_hour = models.PositiveIntegerField()
    # The reasons the rules gave, space-separated ("" for none).
    reasons = models.CharField(max_length=200, blank=True)
    is_flagged = models.BooleanField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("referred sign-up")
        verbose_name_plural = _("referred sign-ups")
        indexes = [
            # The burst signal: this code's sign-ups from one network in the last hour.
            models.Index(
                fields=["code", "network", "created_at"], name="referral_signup_burst_idx"
            ),
            # What staff review, newest first.
            models.Index(
                fields=["-created_at"],
                condition=models.Q(is_flagged=True),
                name="referral_signup_flagged_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referee_id} <- {self.referrer_id} ({self.reasons or '-'})"

    @property
    def reason_list(self) -> list[str]:
        return self.reasons.split()
