from django.utils.translation import gettext_lazy as _

from common.errors import DomainError, NotFoundError


class CodeInvalidError(DomainError):
    refuses_invite_code = True
    code = "invalid"
    default_detail = _("This referral code is not valid.")
    default_attr = "code"


class CodeExpiredError(DomainError):
    refuses_invite_code = True
    code = "expired"
    default_detail = _("This referral code has expired.")
    default_attr = "code"


class CodeUsedUpError(DomainError):
    refuses_invite_code = True
    code = "used_up"
    default_detail = _("This referral code has reached its maximum number of uses.")
    default_attr = "code"


class CodeTakenError(DomainError):
    code = "unique"
    default_detail = _("This code is already taken.")
    default_attr = "code"


# What an invite code entered at sign-up or on /me/referrer/ may be refused with.
INVITE_CODE_ERROR_CODES = [CodeInvalidError.code, CodeExpiredError.code, CodeUsedUpError.code]


class CodeExpiresInPastError(DomainError):
    code = "expires_in_past"
    default_detail = _("The expiry time must be in the future.")
    default_attr = "expires_at"


class CodeMaxUsesBelowUsesError(DomainError):
    code = "invalid"
    default_detail = _("max_uses cannot be lower than the number of uses so far.")
    default_attr = "max_uses"


class CodeNotFoundError(NotFoundError):
    default_detail = _("Referral code not found.")


class CodeNoActiveError(DomainError):
    code = "no_active_code"
    default_detail = _("You have no active referral code.")


class CodeEmailNoAddressError(DomainError):
    code = "no_email"
    default_detail = _("Your account has no email address.")
