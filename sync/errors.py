from django.utils.translation import gettext_lazy as _

from common.errors import DomainError


class SyncCursorInvalidError(DomainError):
    code = "invalid"
    default_detail = _("This cursor was not issued by this server for this query.")
    default_attr = "cursor"
