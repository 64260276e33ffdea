"""Domain errors: business failures with a stable machine code and an HTTP status."""

from __future__ import annotations

import copy

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base of every business failure.

    `code` is the snake_case code of API.md, `status_code` the HTTP status it maps to and
    `attr` the request field it concerns (None for the request as a whole). The same
    failure can concern different fields on different endpoints (an invite code is
    `referral_code` at sign-up and `code` on `/me/referrer/`): `for_field` re-targets it.
    A failure that refuses an invite code sets `refuses_invite_code`: the answer is
    counted by its code in the metrics (common.metrics) and, per day, for the dashboard
    (codes.services.code_refusals_counted).
    """

    code: str = "invalid"
    status_code: int = 400
    default_detail: str | Promise = _("Invalid input.")
    default_attr: str | None = None
    refuses_invite_code: bool = False

    def __init__(self, detail: str | Promise | None = None, *, attr: str | None = None) -> None:
        self.detail = detail if detail is not None else self.default_detail
        self.attr = attr if attr is not None else self.default_attr
        super().__init__(str(self.detail))

    def for_field(self, attr: str | None) -> DomainError:
        clone = copy.copy(self)
        clone.attr = attr
        return clone


class NotFoundError(DomainError):
    code = "not_found"
    status_code = 404
    default_detail = _("Not found.")


class EmailUnavailableError(DomainError):
    """An email could not be queued (the database refused the task's row)."""

    code = "email_unavailable"
    status_code = 503
    default_detail = _("The email cannot be sent right now. Try again later.")


class RetryLaterError(DomainError):
    """A request refused for now that may be repeated after `wait` seconds: answered 429
    with Retry-After, in the envelope of a throttled request (code `throttled`)."""

    code = "throttled"
    status_code = 429
    default_detail = _("Request was throttled.")

    def __init__(
        self, detail: str | Promise | None = None, *, wait: float = 1, attr: str | None = None
    ) -> None:
        super().__init__(detail, attr=attr)
        self.wait = wait
