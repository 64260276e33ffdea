"""The Redoc page without any request to another host.

Redoc's bundle draws Redocly's logo in its sidebar footer from their CDN, with no option
to leave it out. The bundle is served here with that address replaced by an empty image
(the logo then hides itself), read once from drf-spectacular-sidecar's copy; the docs
then work with no internet, and tell no third party who reads them.
"""

from __future__ import annotations

from functools import cache

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularRedocView

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
LOGO_URL = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def _redoc_bundle() -> bytes:
    path = finders.find(REDOC_BUNDLE)
    assert isinstance(path, str), (
        f"{REDOC_BUNDLE} is missing: is drf-spectacular-sidecar installed?"
    )
    with open(path, "rb") as bundle:
        return bundle.read().replace(LOGO_URL, b"data:,")


@require_safe
@cache_control(public=True, max_age=24 * 60 * 60)
def redoc_bundle(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_redoc_bundle(), content_type="text/javascript; charset=utf-8")


class RedocView(SpectacularRedocView):
    """drf-spectacular's Redoc page, loading the bundle above."""

    @staticmethod
    def _redoc_standalone() -> str:
        return reverse("redoc-bundle")
