"""API plumbing shared by every app: the error envelope and pagination."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Page, Paginator
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from drf_standardized_errors.formatter import ExceptionFormatter as BaseExceptionFormatter
from drf_standardized_errors.formatter import flatten_errors
from drf_standardized_errors.handler import ExceptionHandler as BaseExceptionHandler
from drf_standardized_errors.types import Error
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import exceptions, pagination, status
from rest_framework.fields import get_error_detail
from rest_framework.settings import api_settings

from common.errors import DomainError, RetryLaterError
from common.logging import dependency_failures
from common.metrics import code_refusal_count


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("Request body is larger than 1 MiB.")
    default_code = "payload_too_large"


class BadRequest(exceptions.APIException):
    """A request Django itself refuses (SuspiciousOperation: a Host not allowed, too many
    fields), which DRF would otherwise pass on as a 500."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("Bad request.")
    default_code = "bad_request"


class ServiceUnavailable(exceptions.APIException):
    """Postgres or Redis unreachable or too slow (`dependency`: database, cache)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("A service this request depends on is unavailable.")
    default_code = "service_unavailable"

    def __init__(self, *, dependency: str) -> None:
        super().__init__()
        self.dependency = dependency


def domain_error_to_api_exception(exc: DomainError) -> exceptions.APIException:
    """Render a DomainError with the framework's own exception types."""
    if isinstance(exc, RetryLaterError):
        return ThrottledError(exc.wait, detail=str(exc.detail))
    detail = exceptions.ErrorDetail(str(exc.detail), code=exc.code)
    if exc.status_code == status.HTTP_400_BAD_REQUEST:
        return exceptions.ValidationError({exc.attr: [detail]} if exc.attr else [detail])
    api_exc = exceptions.APIException(detail)
    api_exc.status_code = exc.status_code
    return api_exc


class ThrottledError(exceptions.Throttled):
    """DRF's Throttled, with its wait in a sentence that translates.

    DRF formats the wait into its message before looking the message up, so the lookup
    never matches and the second sentence stays English in every language."""

    def __init__(self, wait: float, detail: str | None = None) -> None:
        seconds = math.ceil(wait)
        if detail is None:
            detail = ngettext(
                "Request was throttled. Try again in %(wait)d second.",
                "Request was throttled. Try again in %(wait)d seconds.",
                seconds,
            ) % {"wait": seconds}
        super().__init__(detail=detail)
        self.wait = seconds  # Retry-After


class ExceptionHandler(BaseExceptionHandler):
    """drf-standardized-errors' handler, taught our domain errors and Django's own."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DomainError):
            if exc.refuses_invite_code:
                code_refusal_count(reason=exc.code)
            return domain_error_to_api_exception(exc)
        if isinstance(exc, DjangoValidationError):
            return exceptions.ValidationError(detail=get_error_detail(exc))
        if isinstance(exc, RequestDataTooBig):
            return PayloadTooLarge()
        if isinstance(exc, SuspiciousOperation):
            # Logged where Django logs the ones it answers itself.
            logging.getLogger(f"django.security.{type(exc).__name__}").error(str(exc), exc_info=exc)
            return BadRequest()
        wait = getattr(exc, "wait", None)  # DRF's Throttled sets it; its stubs omit it
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            return ThrottledError(wait)
        if isinstance(exc, OperationalError | InterfaceError):
            return ServiceUnavailable(dependency="database")  # the client may retry
        if isinstance(exc, RedisConnectionError | RedisTimeoutError):
            return ServiceUnavailable(dependency="cache")
        return super().convert_known_exceptions(exc)

    def report_exception(self, exc: exceptions.APIException, response: Any) -> None:
        """A dependency's outage is logged once per interval for all the requests that
        meet it (common.logging.dependency_failures), not with a traceback each."""
        if isinstance(exc, ServiceUnavailable):
            dependency_failures.record(kind=exc.dependency, error=self.exc, now=time.monotonic())
            response._has_been_logged = True  # Django's own error line for the 503, too
            return
        super().report_exception(exc, response)


class ExceptionFormatter(BaseExceptionFormatter):
    """The API.md envelope: non-field errors carry `attr: null`; simplejwt's detail
    dicts become one error with simplejwt's own code (`token_not_valid`, …)."""

    def get_errors(self) -> list[Error]:
        detail = self.exc.detail
        if not isinstance(self.exc, exceptions.ValidationError) and isinstance(detail, dict):
            message = detail.get("detail", "")
            code = str(detail.get("code", getattr(message, "code", self.exc.default_code)))
            return [Error(code, str(message), None)]
        errors = flatten_errors(detail)
        for error in errors:
            if error.attr == api_settings.NON_FIELD_ERRORS_KEY:
                error.attr = None
        return errors


_MAX_OFFSET = 2**62


class CountingPaginator(Paginator):
    """Django's Paginator, reading a page and the total in one query when the object list
    offers `page_and_count(offset, limit) -> (rows, total)`. Django's asks for the
    count, then for the page: two round trips on the hottest list."""

    def page(self, number: Any) -> Page:
        page_and_count = getattr(self.object_list, "page_and_count", None)
        try:
            offset = (int(number) - 1) * self.per_page
        except (TypeError, ValueError):
            offset = -1
        if page_and_count is None or "count" in self.__dict__ or not 0 <= offset < _MAX_OFFSET:
            # Django's errors for a malformed number, and EmptyPage for one far past any
            # real list, before an offset the database cannot take (a bigint) reaches it.
            return super().page(number)
        rows, self.count = page_and_count(offset, self.per_page)  # count: cached_property
        number = self.validate_number(number)  # past the last page: EmptyPage, as Django
        # Paginator's private _get_page, as its page() ends; django-stubs leave it out.
        return self._get_page(rows, number, self)  # type: ignore[attr-defined]


class PageNumberPagination(pagination.PageNumberPagination):
    django_paginator_class = CountingPaginator
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters

    def get_page_size(self, request: Any) -> int | None:
        """`page_size` from 1 to 100 (default 20); anything else is 400 `invalid` on it,
        where DRF would quietly clamp or fall back to the default."""
        raw = request.query_params.get(self.page_size_query_param)
        if not raw:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        exceptions.ErrorDetail(
                            str(_("page_size is a whole number from 1 to 100.")), code="invalid"
                        )
                    ]
                }
            )
        return int(raw)

    def get_page_number(self, request: Any, paginator: Any) -> str | int:
        # A malformed page is bad input (400 on `page`); a page past the end stays 404.
        page = super().get_page_number(request, paginator)
        if page in self.last_page_strings:
            return page
        if not (str(page).isascii() and str(page).isdigit()) or int(page) < 1:
            raise exceptions.ValidationError(
                {
                    "page": [
                        exceptions.ErrorDetail(
                            str(_("A page is a whole number from 1.")), code="invalid"
                        )
                    ]
                }
            )
        return page


def error_response(
    *, status_code: int, code: str, detail: str, attr: str | None = None
) -> JsonResponse:
    """An error in the envelope, for code that runs outside DRF views (middleware,
    Django's error handlers)."""
    error_type = "client_error" if status_code < 500 else "server_error"
    body = {"type": error_type, "errors": [{"code": code, "detail": detail, "attr": attr}]}
    return JsonResponse(body, status=status_code)


@csrf_exempt  # unknown paths answer 404 for every method, not a CSRF failure page
def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(status_code=404, code="not_found", detail=str(_("Not found.")))


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """What Django answers outside any view: a Host not in ALLOWED_HOSTS, too many fields."""
    return error_response(
        status_code=400, code=BadRequest.default_code, detail=str(BadRequest.default_detail)
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    denied = exceptions.PermissionDenied  # DRF's words, and so its translations
    return error_response(
        status_code=403, code=denied.default_code, detail=str(denied.default_detail)
    )


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return error_response(status_code=500, code="error", detail=str(_("A server error occurred.")))
