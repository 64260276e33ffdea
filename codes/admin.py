"""Django admin for referral codes.

Writes go through codes.services, like the API's: issuing a code deactivates the owner's
previous one, re-activating a code deactivates the current one, and every change clears
the public lookup's cache. A code's string and owner never change, and codes are
soft-deleted (users who signed up with one keep pointing at it).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from codes.models import ReferralCode
from codes.selectors import code_normalize
from codes.serializers import custom_code_validator
from codes.services import code_delete, code_issue, code_terms_check, code_update
from common.admin import IsSetListFilter, domain_errors_as_form_errors

_EDITABLE_AFTER_CREATION = ("is_active", "expires_at", "max_uses")


class ReferralCodeAdminForm(forms.ModelForm):
    """Checks the terms by the services' own rule (code_terms_check) up front, so a
    refused change is a form error rather than a domain error escaping `save_model`."""

    class Meta:
        model = ReferralCode
        fields = ("owner", "code", "is_active", "expires_at", "max_uses")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "code" in self.fields:
            self.fields["code"].required = False
            self.fields["code"].validators.append(custom_code_validator)
            self.fields["code"].help_text = _("Leave empty to generate one.")

    def clean_code(self) -> str:
        value = self.cleaned_data.get("code") or ""
        return code_normalize(value) if value else ""  # empty: generate one

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        with domain_errors_as_form_errors(self.fields):
            code_terms_check(
                now=timezone.now(),
                # An unchanged expiry that has passed meanwhile is the code's state, not a
                # new term: the admin may still change the code's other fields.
                expires_at=cleaned.get("expires_at") if "expires_at" in self.changed_data else None,
                max_uses=cleaned.get("max_uses"),
                uses=self.instance.uses,
            )
        return cleaned


class DeletedListFilter(IsSetListFilter):
    title = _("deleted")
    parameter_name = "deleted"
    field = "deleted_at"


@admin.register(ReferralCode)
class ReferralCodeAdmin(admin.ModelAdmin):
    form = ReferralCodeAdminForm
    list_display = (
        "code",
        "owner_link",
        "is_active",
        "expires_at",
        "uses_of_max",
        "created_at",
        "deleted_at",
    )
    list_filter = ("is_active", DeletedListFilter)
    list_select_related = ("owner",)
    search_fields = ("code", "owner__email")
    search_help_text = _("Part of the code or of the owner's email.")
    raw_id_fields = ("owner",)
    ordering = ("-id",)
    show_full_result_count = False
    actions = ("delete_selected_codes",)

    # A list of names; django-stubs declare an invariant list of names or name groups,
    # which no narrower list matches.
    def get_fields(self, request: HttpRequest, obj: ReferralCode | None = None) -> list[str]:  # type: ignore[override]
        if obj is None:
            return ["owner", "code", "expires_at", "max_uses"]
        return [
            "code",
            "owner",
            "is_active",
            "expires_at",
            "max_uses",
            "uses",
            "created_at",
            "deleted_at",
        ]

    def get_readonly_fields(
        self, request: HttpRequest, obj: ReferralCode | None = None
    ) -> list[str]:
        if obj is None:
            return []
        fields = self.get_fields(request, obj)
        if obj.deleted_at is not None:
            return fields  # a deleted code is kept only as a record
        return [name for name in fields if name not in _EDITABLE_AFTER_CREATION]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # rows are kept: see delete_selected_codes
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: ReferralCode | None = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: ReferralCode, form: forms.ModelForm, change: bool
    ) -> None:
        now = timezone.now()
        if change:
            changes = {name: getattr(obj, name) for name in form.changed_data}
            code_update(code=obj, now=now, **changes)
            return
        issued = code_issue(
            owner=obj.owner,
            now=now,
            value=obj.code or None,
            expires_at=obj.expires_at,
            max_uses=obj.max_uses,
        )
        # The admin goes on to log and redirect to `obj`, so it must become the saved row.
        for field in ReferralCode._meta.concrete_fields:
            setattr(obj, field.attname, getattr(issued, field.attname))
        obj._state.adding = False
        obj._state.db = issued._state.db

    @admin.action(description=_("Delete selected codes (kept as records)"), permissions=("change",))
    def delete_selected_codes(self, request: HttpRequest, queryset: QuerySet[ReferralCode]) -> None:
        now = timezone.now()
        codes = list(queryset.filter(deleted_at__isnull=True))
        for code in codes:
            code_delete(code=code, now=now)
        self.message_user(request, _("Deleted %(count)d codes.") % {"count": len(codes)})

    @admin.display(description=_("owner"), ordering="owner__email")
    def owner_link(self, obj: ReferralCode) -> str:
        url = reverse("admin:users_user_change", args=[obj.owner_id])
        return format_html('<a href="{}">{}</a>', url, obj.owner)

    @admin.display(description=_("uses"), ordering="uses")
    def uses_of_max(self, obj: ReferralCode) -> str:
        return f"{obj.uses} / {obj.max_uses if obj.max_uses is not None else '∞'}"
