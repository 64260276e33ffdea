"""The service's URLs plus a plain Django view that fails, for the 500 handler's test."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [path("api/boom/", boom), path("", include("config.urls"))]
