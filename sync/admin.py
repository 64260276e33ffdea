import uuid
from functools import cached_property
from typing import cast

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from common.admin import ReadOnlyAdminMixin
from sync.models import UserChange


class EstimatedCountPaginator(Paginator):
    """Counts the unfiltered queue from Postgres' statistics instead of COUNT(*): the
    queue grows by a row per change of a user, and an exact count of tens of millions of
    rows on every page view would outlast gunicorn's timeout. Filtered lists (a date
    range, one user) are counted exactly."""

    @cached_property
    def count(self) -> int:
        queryset = cast(QuerySet[UserChange], self.object_list)  # the admin pages querysets
        connection = connections[queryset.db]
        if connection.vendor == "postgresql" and not queryset.query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row is not None and row[0] >= 0:  # -1: never analyzed
                return int(row[0])
        return super().count


@admin.register(UserChange)
class UserChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The change queue, read-only: rows are written by database triggers only."""

    list_display = ["user_uuid", "queued_at"]
    list_filter = [("queued_at", admin.DateFieldListFilter)]
    search_fields = ["user_uuid"]
    search_help_text = _("An exact user uuid.")
    ordering = ["-queued_at"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[UserChange], search_term: str
    ) -> tuple[QuerySet[UserChange], bool]:
        # Django's search casts the column to text (a scan); a UUID is matched exactly, on
        # the index that starts with it.
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(user_uuid=uuid.UUID(term)), False
        except ValueError:
            return queryset.none(), False
