from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from codes.views import InviteLandingView, ShareLinkView
from common import api
from common.docs import RedocView, redoc_bundle
from common.metrics import metrics_view
from common.views import HealthcheckView

api_patterns: list[URLPattern | URLResolver] = [
    path("", include("users.urls")),
    path("", include("codes.urls")),
    path("", include("referral.urls")),
    path("", include("sync.urls")),
    path("", include("social.urls")),
    path("healthcheck/", HealthcheckView.as_view(), name="healthcheck"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "schema/swagger-ui/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"
    ),
    path("schema/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("schema/redoc/redoc.standalone.js", redoc_bundle, name="redoc-bundle"),
    # Unknown paths under /api/ answer in the error envelope too, in DEBUG as well.
    re_path(r"^.*$", api.not_found),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("r/<str:code>/", ShareLinkView.as_view(), name="share-link"),
    path("invite/", InviteLandingView.as_view(), name="invite-landing"),
    path("api/", include(api_patterns)),
    path("metrics", metrics_view, name="metrics"),
]

handler400 = "common.api.bad_request"
handler403 = "common.api.permission_denied"
handler404 = "common.api.not_found"
handler500 = "common.api.server_error"
