"""Django admin for linked social accounts: searchable by link, and inline (read-only) on
the user's page. Writes go through social.services, as the API's: links are checked and
stored normalized, at most 20 per user, one link once."""

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

from common.admin import domain_errors_as_form_errors
from common.errors import DomainError
from social.links import link_normalize
from social.models import Network, SocialAccount
from social.services import (
    social_account_limit_check,
    social_account_link,
    social_account_unlink,
    social_account_update,
)


class SocialAccountAdminForm(forms.ModelForm):
    """Checks a new account by the API's rules (social.links, the limit per user) before
    the admin saves; a refusal is the form's error, with the service's code. The model's
    unique constraint is checked on the normalized link."""

    class Meta:
        model = SocialAccount
        fields = ("user", "network", "link", "reason")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if "link" not in self.fields:
            return cleaned  # a change: only the reason
        with domain_errors_as_form_errors(self.fields):
            if cleaned.get("network") and cleaned.get("link"):
                cleaned["link"] = link_normalize(network=cleaned["network"], link=cleaned["link"])
            if cleaned.get("user"):
                social_account_limit_check(user=cleaned["user"])
        return cleaned


class SocialAccountInline(admin.TabularInline):
    """The user's linked accounts on their page; each opens in its own admin."""

    model = SocialAccount
    fields = ("network", "link", "reason", "connected_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("-connected_at", "-id")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _exact_links(term: str) -> list[str]:
    """`term` normalized for each network whose link it is (one at most), so a search for
    `https://www.VK.com/durov/` finds the stored `https://vk.com/durov`."""
    found = []
    for network in Network.values:
        try:
            found.append(link_normalize(network=network, link=term))
        except DomainError:
            continue
    return found


@admin.register(SocialAccount)
class SocialAccountAdmin(admin.ModelAdmin):
    form = SocialAccountAdminForm
    list_display = ("link", "network", "user_link", "reason", "connected_at")
    list_filter = ("network",)
    list_select_related = ("user",)
    search_fields = ("link",)
    search_help_text = _("Part of the link, or the whole link as the user wrote it.")
    raw_id_fields = ("user",)
    ordering = ("-id",)
    show_full_result_count = False

    def get_readonly_fields(
        self, request: HttpRequest, obj: SocialAccount | None = None
    ) -> list[str]:
        # Only the reason changes once linked, as in the API.
        return [] if obj is None else ["user", "network", "link", "uuid", "connected_at"]

    def get_fields(  # type: ignore[override]  # a list of names; the stubs want name groups
        self, request: HttpRequest, obj: SocialAccount | None = None
    ) -> list[str]:
        if obj is None:
            return ["user", "network", "link", "reason"]
        return ["uuid", "user", "network", "link", "reason", "connected_at"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[SocialAccount], search_term: str
    ) -> tuple[QuerySet[SocialAccount], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        exact = _exact_links(search_term.strip())
        if exact:
            results = results | queryset.filter(link__in=exact)
        return results, may_have_duplicates

    def save_model(
        self, request: HttpRequest, obj: SocialAccount, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            social_account_update(account=obj, reason=obj.reason)
            return
        linked = social_account_link(
            user=obj.user,
            network=obj.network,
            link=obj.link,
            reason=obj.reason,
            now=timezone.now(),
        )
        # The admin goes on to log and redirect to `obj`, so it must become the saved row.
        for field in SocialAccount._meta.concrete_fields:
            setattr(obj, field.attname, getattr(linked, field.attname))
        obj._state.adding = False
        obj._state.db = linked._state.db

    def delete_model(self, request: HttpRequest, obj: SocialAccount) -> None:
        social_account_unlink(account=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SocialAccount]) -> None:
        for account in queryset:
            social_account_unlink(account=account)

    @admin.display(description=_("user"), ordering="user__email")
    def user_link(self, obj: SocialAccount) -> str:
        url = reverse("admin:users_user_change", args=[obj.user_id])
        return format_html('<a href="{}">{}</a>', url, obj.user)
