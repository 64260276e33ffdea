"""Django admin for the review of referred sign-ups (referral.ReferredSignup).

Rows are written by the sign-up services only; staff read them, filter the flagged ones
by reason, compare the two users side by side, and act through the services: clear a
flag, erase the referred user (users.services.lifecycle), deactivate the code used.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from codes.services import code_update
from referral.abuse import REASONS
from referral.models import ReferredSignup
from referral.services import referral_signup_clear
from users.errors import UserNotFoundError
from users.models import User
from users.services.lifecycle import user_erase


class ReasonListFilter(admin.SimpleListFilter):
    title = _("reason")
    parameter_name = "reason"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[ReferredSignup]
    ) -> list[tuple[str, Any]]:
        return [(reason, reason) for reason in REASONS]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ReferredSignup]
    ) -> QuerySet[ReferredSignup]:
        reason = self.value()
        if reason is not None and reason in REASONS:
            # Reasons are words between spaces, and no reason is part of another.
            return queryset.filter(reasons__contains=reason)
        return queryset


def _user_link(user: User) -> str:
    url = reverse("admin:users_user_change", args=[user.pk])
    return format_html('<a href="{}">{}</a>', url, user)


@admin.register(ReferredSignup)
class ReferredSignupAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "referee_link",
        "referrer_link",
        "code",
        "door",
        "reasons",
        "is_flagged",
    )
    list_filter = ("is_flagged", ReasonListFilter, "door")
    list_select_related = ("referee", "referrer", "code")
    search_fields = ("referee__email", "referrer__email", "code__code")
    search_help_text = _("Part of either user's email, or of the code.")
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    actions = ("clear_flags", "erase_referees", "deactivate_codes")
    fields = (
        "side_by_side",
        "created_at",
        "door",
        "code",
        "reasons",
        "is_flagged",
        "network_signups_last_hour",
        "email_verdict",
        "cleared_at",
        "cleared_by",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description=_("referred user"), ordering="referee__email")
    def referee_link(self, obj: ReferredSignup) -> str:
        return _user_link(obj.referee)

    @admin.display(description=_("referrer"), ordering="referrer__email")
    def referrer_link(self, obj: ReferredSignup) -> str:
        return _user_link(obj.referrer)

    @admin.display(description=_("the two users"))
    def side_by_side(self, obj: ReferredSignup) -> str:
        return render_to_string(
            "admin/referral/referredsignup/side_by_side.html",
            {"signup": obj, "referee": obj.referee, "referrer": obj.referrer},
        )

    @admin.action(description=_("Clear the flag of the selected sign-ups"), permissions=("change",))
    def clear_flags(self, request: HttpRequest, queryset: QuerySet[ReferredSignup]) -> None:
        now = timezone.now()
        flagged = list(queryset.filter(is_flagged=True))
        for signup in flagged:
            referral_signup_clear(signup=signup, by=request.user, now=now)  # type: ignore[arg-type]
        self.message_user(request, _("Cleared %(count)d flags.") % {"count": len(flagged)})

    def has_erase_permission(self, request: HttpRequest) -> bool:
        """Erasure is the users admin's deletion: it takes the permission to delete users."""
        return request.user.has_perm("users.delete_user")

    @admin.action(description=_("Erase the referred users for good"), permissions=("erase",))
    def erase_referees(
        self, request: HttpRequest, queryset: QuerySet[ReferredSignup]
    ) -> TemplateResponse | None:
        signups = list(queryset.filter(referee__erased_at__isnull=True).select_related("referee"))
        if not request.POST.get("post"):
            # The users admin's confirmation page; it posts the signups back to this action.
            context = {
                **self.admin_site.each_context(request),
                "title": _("Erase users"),
                "question": _(
                    "Erase these referred users for good? Their personal data, social accounts "
                    "and tokens are deleted, their codes stop working, and their own referrals "
                    "move up to their referrer. This cannot be undone."
                ),
                "lines": [str(signup.referee) for signup in signups],
                "users": signups,
                "action": "erase_referees",
                "opts": self.opts,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "media": self.media,
            }
            request.current_app = self.admin_site.name
            return TemplateResponse(request, "admin/users/user/action_confirmation.html", context)
        now = timezone.now()
        erased = 0
        for signup in signups:
            try:
                user_erase(user=signup.referee, now=now)
            except UserNotFoundError:
                continue  # erased meanwhile
            erased += 1
        self.message_user(request, _("Erased %(count)d users.") % {"count": erased})
        return None

    @admin.action(
        description=_("Deactivate the codes the selected sign-ups used"), permissions=("change",)
    )
    def deactivate_codes(self, request: HttpRequest, queryset: QuerySet[ReferredSignup]) -> None:
        now = timezone.now()
        codes = {signup.code for signup in queryset.select_related("code") if signup.code.is_active}
        for code in codes:
            code_update(code=code, now=now, is_active=False)
        self.message_user(request, _("Deactivated %(count)d codes.") % {"count": len(codes)})
