from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
