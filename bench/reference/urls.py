from typing import cast

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
from rest_framework_simplejwt.models import TokenUser

from sync.selectors import EXPORT_KEYS
from users.models import User


class ReferenceView(APIView):
    """A DRF view with a bearer token (checked without the database) and one query."""

    authentication_classes = [JWTStatelessUserAuthentication]
    throttle_classes: list[type] = []

    def get(self, request: Request) -> Response:
        user = cast(TokenUser, request.user)  # what JWTStatelessUserAuthentication sets
        return Response(User.objects.values("uuid", "email", "username").get(uuid=user.id))


# What the tree service's batch answers with, as ORM field names.
EXPORT_FIELDS = tuple(
    "referred_by__uuid" if key == "referred_by_uuid" else key for key in EXPORT_KEYS
)


def reference_batch(request: HttpRequest) -> JsonResponse:
    """A bare Django view running the batch's query and building dicts from .values()."""
    uuids = request.GET["uuids"].split(",")
    rows = User.objects.filter(uuid__in=uuids).values(*EXPORT_FIELDS)
    return JsonResponse({"results": [dict(row) for row in rows]})


urlpatterns = [
    path("bench/reference/", ReferenceView.as_view()),
    path("bench/reference/batch/", reference_batch),
    path("", include("config.urls")),
]
