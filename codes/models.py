from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

# What a code string may be, wherever one is read (sign-up, lookups, /api/codes/<code>/):
# these characters, at most CODE_MAX_LENGTH of them. A code a user chooses has at least
# CUSTOM_CODE_MIN_LENGTH; generated ones are REFERRAL_CODE_LENGTH of GENERATED_ALPHABET,
# which leaves out look-alikes (0/O, 1/I/L).
CODE_CHARACTERS = "A-Za-z0-9_-"
CODE_MAX_LENGTH = 32
CUSTOM_CODE_MIN_LENGTH = 4
GENERATED_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class ReferralCode(models.Model):
    """An invite code. Strings are stored upper-cased and never change owner: a deleted
    code keeps its row (and its string) with `deleted_at` set."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referral_codes"
    )
    code = models.CharField(max_length=CODE_MAX_LENGTH, unique=True)
    is_active = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    # Counted share-link clicks (ReferralClick), beside `uses`: the conversion of a code.
    clicks = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner"],
                condition=models.Q(is_active=True),
                name="codes_one_active_per_owner",
            ),
            models.CheckConstraint(
                condition=models.Q(code=Upper("code")), name="codes_code_upper_case"
            ),
            models.CheckConstraint(
                condition=models.Q(max_uses__isnull=True) | models.Q(max_uses__gte=1),
                name="codes_max_uses_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(max_uses__isnull=True)
                | models.Q(uses__lte=models.F("max_uses")),
                name="codes_uses_within_max",
            ),
            models.CheckConstraint(
                condition=models.Q(deleted_at__isnull=True) | models.Q(is_active=False),
                name="codes_deleted_inactive",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "created_at", "id"], name="codes_owner_created_idx"),
            # The dashboard's conversion figures (referral.dashboard): the codes anyone
            # clicked, most clicked first, with what the figures read beside the key.
            models.Index(
                fields=["-clicks"],
                include=["uses", "owner"],
                condition=models.Q(clicks__gt=0),
                name="codes_clicked_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def share_url(self) -> str:
        return code_share_url(self.code)


class ReferralClick(models.Model):
    """One counted visit of a code's share link (`/r/<code>/`).

    Only what the conversion figures need, and no personal data: the visitor's network
    (a /24 or /64 prefix, never the full address) and a keyed hash of the user agent
    (never the string itself). Bots, prefetchers and repeats from one network within a
    minute are not recorded (codes.services.code_click_record).
    """

    code = models.ForeignKey(ReferralCode, on_delete=models.CASCADE, related_name="+")
    clicked_at = models.DateTimeField()
    network = models.CharField(max_length=43)  # an IPv6 /64 in CIDR notation at most
    user_agent_hash = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["code", "clicked_at"], name="codes_click_code_time_idx"),
            models.Index(fields=["clicked_at"], name="codes_click_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code_id} @ {self.clicked_at:%Y-%m-%dT%H:%M:%S}"


def code_share_url(code: str) -> str:
    """The link a user shares to invite with `code` (SHARE_URL_TEMPLATE)."""
    return settings.SHARE_URL_TEMPLATE.format(code=code)


class RefusalDay(models.Model):
    """How many times invite codes were refused on one day (UTC), by the error code the
    client was answered (`invalid`, `expired`, `used_up`, `cycle`, `too_deep`, …), for the
    dashboard. One row per day and reason, counted up by codes.services.code_refusal_count
    after the refused sign-up's transaction has rolled back: a bounded table that
    survives restarts, unlike the process's metrics counters."""

    day = models.DateField()
    reason = models.CharField(max_length=32)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "reason"], name="codes_refusal_day_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.reason}: {self.count}"
