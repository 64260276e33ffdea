from django.utils.translation import gettext_lazy as _

from common.errors import DomainError, NotFoundError


class SocialLinkInvalidError(DomainError):
    """Not an http(s) URL naming an account: another scheme, credentials or a port in
    it, a host that is no host, or no path."""

    code = "invalid"
    default_detail = _(
        "Enter a link to a profile: an http or https URL with the account in its path."
    )
    default_attr = "link"


class SocialLinkNetworkMismatchError(DomainError):
    code = "link_network_mismatch"
    default_detail = _("This link is not on the network's own site.")
    default_attr = "link"


class SocialLinkTakenError(DomainError):
    code = "unique"
    default_detail = _("This account is already linked.")
    default_attr = "link"


class SocialAccountLimitError(DomainError):
    code = "too_many_accounts"
    default_detail = _("A user can link at most 20 social accounts.")


class SocialAccountNotFoundError(NotFoundError):
    default_detail = _("Social account not found.")
