from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from common.api import PayloadTooLarge, error_response


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
