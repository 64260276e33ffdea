from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sync.models import UserChange


@admin.register(UserChange)
class UserChangeAdmin(admin.ModelAdmin):
    """The change queue, read-only: rows are written by database triggers only."""

    list_display = ["user_uuid", "queued_at"]
    list_filter = [("queued_at", admin.DateFieldListFilter)]
    search_fields = ["=user_uuid"]
    ordering = ["-queued_at"]
    show_full_result_count = False  # counting tens of millions of rows per page view
    date_hierarchy = "queued_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
