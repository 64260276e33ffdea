import time
from collections.abc import Sequence
from typing import Any, ClassVar

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from common.access import Access
from common.api import error_response
from common.logging import dependency_failures
from common.openapi import ErrorResponse503Serializer
from common.tasks import tasks_stale


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError as exc:
        dependency_failures.record(kind="database", error=exc, now=time.monotonic())
        return False


def _cache_ok() -> bool:
    try:
        cache.set("healthcheck", "ok", timeout=10)
        return cache.get("healthcheck") == "ok"
    except Exception as exc:  # any backend's transport error; logged and reported as down
        dependency_failures.record(kind="cache", error=exc, now=time.monotonic())
        return False


CHECKS = {"database": _database_ok, "cache": _cache_ok}
CHECK_NAMES = {"database": _("database"), "cache": _("cache")}

HEALTH_RESPONSES = {
    200: inline_serializer(
        "HealthcheckOutput",
        {
            "status": serializers.CharField(),
            "checks": serializers.DictField(child=serializers.CharField()),
        },
    ),
    503: ErrorResponse503Serializer,
}


class HealthcheckView(APIView):
    """Liveness and dependencies: 200 when the database and the cache answer and the task
    queue is being worked off, else 503 naming the failing check in `attr` (`tasks` with
    the code `stale`: a task due has waited more than `TASKS_STALE_SECONDS`, so no worker
    is running)."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes: list[type] = []

    @extend_schema(
        summary="Health of the service and its dependencies",
        tags=["Operations"],
        responses=HEALTH_RESPONSES,
    )
    def get(self, request: Request) -> Response | JsonResponse:
        # In order, up to the first that fails: a hung database would otherwise be waited
        # for again by the database cache's check.
        for name, check in CHECKS.items():
            if not check():
                return error_response(
                    status_code=503,
                    code="unavailable",
                    detail=_("The %(check)s is unreachable.") % {"check": CHECK_NAMES[name]},
                    attr=name,
                )
        if tasks_stale(now=timezone.now()):
            return error_response(
                status_code=503,
                code="stale",
                detail=str(_("Queued tasks have waited too long: is the task worker running?")),
                attr="tasks",
            )
        return Response(
            {"status": "ok", "checks": {**{name: "ok" for name in CHECKS}, "tasks": "ok"}}
        )

    @extend_schema(
        operation_id="healthcheck_create",
        summary="Health, for probes that can only POST",
        tags=["Operations"],
        request=None,
        responses=HEALTH_RESPONSES,
    )
    def post(self, request: Request) -> Response | JsonResponse:
        return self.get(request)


class AccessByMethodView(APIView):
    """A view for one path whose methods serve different callers, each with its own
    credentials (`/api/users/<uuid>/`: the tree service reads with its X-API-Key, staff
    erase with a bearer token). `access_by_method` maps a method to its Access; a method
    not in it (OPTIONS, or one the view does not have) gets the class attributes. HEAD is
    GET. DRF asks for the authenticators before the request is wrapped, and the schema
    generator per operation: both know the method by then (`self.request`)."""

    access_by_method: ClassVar[dict[str, Access]] = {}

    def _access(self) -> Access | None:
        method = (getattr(self.request, "method", None) or "").lower()
        return self.access_by_method.get("get" if method == "head" else method)

    def get_authenticators(self) -> list[BaseAuthentication]:
        access = self._access()
        if access is None:
            return super().get_authenticators()
        return [authentication() for authentication in access.authentication]

    def get_permissions(self) -> Sequence[Any]:
        access = self._access()
        if access is None:
            return super().get_permissions()
        return [permission() for permission in access.permissions]

    def get_throttles(self) -> list[BaseThrottle]:
        access = self._access()
        if access is None:
            return super().get_throttles()
        return [throttle() for throttle in access.throttles]
