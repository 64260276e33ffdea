import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# A user links at most this many accounts (API.md, "Linked social accounts").
MAX_ACCOUNTS_PER_USER = 20
# Long enough for any profile link; a longer one is refused before it is parsed.
LINK_MAX_LENGTH = 255
REASON_MAX_LENGTH = 255


class Network(models.TextChoices):
    VK = "vk", "VK"
    TELEGRAM = "telegram", "Telegram"
    OK = "ok", _("Odnoklassniki")
    GITHUB = "github", "GitHub"
    X = "x", "X"
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    YOUTUBE = "youtube", "YouTube"


class SocialAccount(models.Model):
    """An account of a user on a social network, by its profile link.

    `link` is stored normalized (social.links.link_normalize), so the unique constraint
    holds one link however it is spelled: nobody links an account twice."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="social_accounts"
    )
    network = models.CharField(_("network"), max_length=16, choices=Network.choices)
    link = models.CharField(_("link"), max_length=LINK_MAX_LENGTH)
    reason = models.CharField(_("reason"), max_length=REASON_MAX_LENGTH, blank=True)
    connected_at = models.DateTimeField(_("connected at"))

    class Meta:
        verbose_name = _("social account")
        verbose_name_plural = _("social accounts")
        constraints = [
            models.UniqueConstraint(fields=["link"], name="social_account_link_unique"),
            models.CheckConstraint(
                condition=models.Q(network__in=Network.values), name="social_account_network_known"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "connected_at", "id"], name="social_account_user_idx"),
        ]

    def __str__(self) -> str:
        return self.link
