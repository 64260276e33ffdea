"""The service's URLs plus a plain Django view that fails, for the 500 handler's test."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [path("api/boom/", boom), path("", include("config.urls"))]

handler400 = "common.api.bad_request"
handler403 = "common.api.permission_denied"
handler404 = "common.api.not_found"
handler500 = "common.api.server_error"
