from django.utils.translation import gettext_lazy as _

from common.errors import DomainError, NotFoundError


class AlreadyReferredError(DomainError):
    refuses_invite_code = True
    code = "already_referred"
    default_detail = _("You already have a referrer; it cannot be changed.")
    default_attr = "code"


class OwnCodeError(DomainError):
    refuses_invite_code = True
    code = "own_code"
    default_detail = _("You cannot use your own referral code.")
    default_attr = "code"


class ReferralCycleError(DomainError):
    refuses_invite_code = True
    code = "cycle"
    default_detail = _("The owner of this code is in your own downline.")
    default_attr = "code"


class TreeTooDeepError(DomainError):
    refuses_invite_code = True
    code = "too_deep"
    default_detail = _("The referral chain would become deeper than this service allows.")
    default_attr = "code"


class ReferralsNotFoundError(NotFoundError):
    default_detail = _("User not found.")


class ReferralRefusedError(DomainError):
    """A referred sign-up the abuse rules flagged, under REFERRAL_ABUSE_POLICY=block."""

    refuses_invite_code = True
    code = "referral_refused"
    default_detail = _("This invite code cannot be used for this sign-up.")
    default_attr = "code"
