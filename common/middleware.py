import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from common.api import PayloadTooLarge, error_response

access_logger = logging.getLogger("access")

# What nginx passes on too (nginx/templates/default.conf.template): anything else is
# replaced by a generated id, so a client cannot put spaces, quotes or a megabyte into
# every log line of its request.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_REQUEST_ID_META = "HTTP_X_REQUEST_ID"


class RequestLogMiddleware:
    """The outermost middleware: one `access` log line per request, and the request id's
    rule.

    django-guid (the next middleware) takes `X-Request-ID` from the request, generates
    one when it is missing, echoes it on the response and hands it to every log line of
    the request; it can only check for a UUID, so an id that breaks REQUEST_ID is removed
    here first and django-guid generates one in its place.

    The line carries method, path (no query string), status, duration in ms (to the
    first byte of a streamed response) and the user's uuid (null when anonymous).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        given = request.META.get(_REQUEST_ID_META)
        if given is not None and not REQUEST_ID.fullmatch(given):
            del request.META[_REQUEST_ID_META]
        response = self.get_response(request)
        access_logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_uuid": _user_uuid(request),
            },
        )
        return response


def _user_uuid(request: HttpRequest) -> str | None:
    """The signed-in user's uuid, without loading a user nobody asked for: DRF puts the
    user it authenticated on the request; Django's lazy session user counts only if
    something (the admin) has already evaluated it."""
    user = vars(request).get("user")
    if isinstance(user, SimpleLazyObject):
        user = None if user._wrapped is empty else user._wrapped  # type: ignore[attr-defined]
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    uuid = getattr(user, "uuid", None)
    return str(uuid) if uuid is not None else None


class RequestBodyLimitMiddleware:
    """Refuse bodies over DATA_UPLOAD_MAX_MEMORY_SIZE with 413 before anything reads them.

    DRF's parsers read the request stream directly, bypassing Django's own size check,
    so without this a large JSON body would be parsed in full.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return error_response(
                status_code=413,
                code="payload_too_large",
                detail=str(PayloadTooLarge.default_detail),
            )
        return self.get_response(request)
