from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from common.errors import DomainError


class ReadOnlyAdminMixin:
    """For a ModelAdmin over rows that only the service writes: staff may look, never
    add, change or delete."""

    actions: Any = None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@contextmanager
def domain_errors_as_form_errors(fields: Collection[str]) -> Iterator[None]:
    """Inside a form's clean(): a rule a service refuses becomes the form's error on the
    field it concerns (one of `fields`, else the whole form), with the service's code and
    words, so the admin checks a change by the same door as the API."""
    try:
        yield
    except DomainError as exc:
        error = ValidationError(str(exc.detail), code=exc.code)
        field = exc.attr if exc.attr is not None and exc.attr in fields else NON_FIELD_ERRORS
        raise ValidationError({field: error}) from exc


class IsSetListFilter(admin.SimpleListFilter):
    """Yes / No on whether the nullable `field` (a timestamp such as `deleted_at`) is set;
    subclasses name the field, the title and the query parameter."""

    field: str

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, Any]]:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() not in ("yes", "no"):
            return queryset
        return queryset.filter(**{f"{self.field}__isnull": self.value() == "no"})
