import math

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from common.errors import DomainError, NotFoundError, RetryLaterError

# The codes of the validators in AUTH_PASSWORD_VALIDATORS, for the schema.
PASSWORD_VALIDATOR_CODES = [
    "password_too_similar",
    "password_too_short",
    "password_too_common",
    "password_entirely_numeric",
]


class EmailUndeliverableError(DomainError):
    code = "email_undeliverable"
    default_detail = _("This email address cannot receive mail.")
    default_attr = "email"


class FieldTakenError(DomainError):
    """An email, phone or username another account already has (attr names which)."""

    code = "unique"
    default_detail = _("This value is already taken by another account.")


class PhoneRequiredError(DomainError):
    """Clearing the phone of an account that has no email, which would leave it with no
    address to sign in with or to be reached at."""

    code = "required"
    default_detail = _("An account without an email must keep its phone.")
    default_attr = "phone"


class UserNotFoundError(NotFoundError):
    default_detail = _("User not found.")


class RefreshTokenInvalidError(DomainError):
    code = "token_not_valid"
    status_code = 401
    default_detail = _("Token is invalid or expired")


class CurrentPasswordInvalidError(DomainError):
    code = "invalid_password"
    default_detail = _("Invalid password.")
    default_attr = "current_password"


class PasswordResetTokenInvalidError(DomainError):
    """A reset link's token that is wrong, used (the password changed since) or stale."""

    code = "invalid_token"
    default_detail = _("Invalid token for given user.")
    default_attr = "token"


class PhoneInvalidError(DomainError):
    code = "invalid"
    default_detail = _("Enter a valid phone number.")
    default_attr = "phone"


class ContactRequiredError(DomainError):
    """An account with neither an email nor a phone: it could never sign in."""

    code = "no_login"
    default_detail = _("A user needs an email or a phone to sign in.")


class UserAlreadyActiveError(DomainError):
    code = "already_active"
    default_detail = _("This user is already active.")


class TokenUserNotFoundError(DomainError):
    """A token whose user no longer exists. The words are simplejwt's (and so are its
    translations): clients see the same answer from every endpoint that reads a token."""

    code = "user_not_found"
    status_code = 401
    default_detail = _("User not found")


class TokenUserInactiveError(DomainError):
    code = "user_inactive"
    status_code = 401
    default_detail = _("User is inactive")


class TokenEndedError(DomainError):
    """A token issued before its user's account was last restored: deactivation ended it,
    and restoring the account does not bring it back. simplejwt's words and code."""

    code = "token_not_valid"
    status_code = 401
    default_detail = _("Token is invalid or expired")


class TokenRevokedError(DomainError):
    """A token issued before its user's password last changed."""

    code = "password_changed"
    status_code = 401
    default_detail = _("The user's password has been changed.")


class PhoneCodeInvalidError(DomainError):
    """A sign-in code that is wrong, expired, used, dead after too many wrong tries, or
    for an inactive account: one answer for all, so it tells nothing about the phone."""

    code = "invalid_code"
    default_detail = _("This code is wrong or no longer valid. Ask for a new one.")
    default_attr = "code"


class PhoneCodeResendError(RetryLaterError):
    """A new code asked for before the resend interval of the last one is over."""

    def __init__(self, *, wait: float = 1) -> None:
        seconds = math.ceil(wait)
        super().__init__(
            ngettext(
                "A code was sent to this phone a moment ago. Ask again in %(wait)d second.",
                "A code was sent to this phone a moment ago. Ask again in %(wait)d seconds.",
                seconds,
            )
            % {"wait": seconds},
            wait=seconds,
        )


class SmsUnavailableError(DomainError):
    code = "sms_unavailable"
    status_code = 503
    default_detail = _("The text message could not be sent. Try again later.")
