"""Django admin for accounts.

The referral tree (referred_by, referred_with_code, referred_at, tree_path, tree_depth) is
read-only here: it is only ever changed by the services that keep the materialized paths
and the tree service's change queue consistent. Side effects the API performs on a write
(deactivation ending tokens, cache invalidation, the sign-up code) go through the same
services from `save_model`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    UserChangeForm,
)
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.token_blacklist.admin import BlacklistedTokenAdmin
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from codes.services import code_issue, codes_invalidate_for_owner
from common.admin import ReadOnlyAdminMixin
from users.models import User
from users.phones import InvalidPhoneError, phone_from_search, phone_normalize
from users.selectors import referrals_count_expression
from users.services import user_deactivate


class _UserFieldsCleaningMixin:
    """Store email, username and phone the way the API does: NULL for "none", the email
    domain lower-cased and the phone in E.164, so the unique constraints mean the same
    thing whichever door a user came in through; and keep an email or a phone, without
    which the user could never sign in."""

    cleaned_data: dict[str, Any]
    instance: User

    def _refuse_taken(self, name: str, value: str | None) -> None:
        # The Lower() unique constraints would also refuse it, but as a nameless form-wide
        # "constraint violated" error; this names the field.
        if not value:
            return
        taken = (
            User.objects.alias(value_lower=Lower(name))
            .filter(value_lower=value.lower())
            .exclude(pk=self.instance.pk)
            .exists()
        )
        if taken:
            raise ValidationError(self.instance.unique_error_message(User, [name]), code="unique")

    def clean_email(self) -> str | None:
        email = BaseUserManager.normalize_email(self.cleaned_data.get("email")) or None
        self._refuse_taken("email", email)
        return email

    def clean_username(self) -> str | None:
        username = self.cleaned_data.get("username") or None
        self._refuse_taken("username", username)
        return username

    def clean_phone(self) -> str | None:
        raw = self.cleaned_data.get("phone")
        if not raw:
            return None
        try:
            return phone_normalize(raw)
        except InvalidPhoneError as exc:
            raise ValidationError(_("Enter a valid phone number."), code="invalid") from exc

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # type: ignore[misc]  # the ModelForm this is mixed into
        if not cleaned.get("email") and not cleaned.get("phone"):
            raise ValidationError(
                _("A user needs an email or a phone to sign in."), code="no_login"
            )
        return cleaned


# The mixin's clean_username returns None for "no username" (stored as NULL), which
# django-stubs' UserCreationForm.clean_username -> str does not allow.
class UserAdminCreationForm(_UserFieldsCleaningMixin, AdminUserCreationForm):  # type: ignore[misc]
    class Meta:
        model = User
        # Our own Meta drops Django's UsernameField, which cannot take the NULL that an
        # optional username cleans to.
        fields = ("email", "username", "phone")


class UserAdminChangeForm(_UserFieldsCleaningMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


_USER_COLUMNS = {field.name for field in User._meta.concrete_fields}


class UserAdminPasswordChangeForm(AdminPasswordChangeForm):
    """Django's, writing only the password column (see UserAdmin.save_model)."""

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=False)
        if commit:
            user.save(update_fields=["password"])
        return user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserAdminChangeForm
    change_password_form = UserAdminPasswordChangeForm
    add_form = UserAdminCreationForm

    fieldsets = (
        (None, {"fields": ("uuid", "email", "username", "phone", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "middle_name")}),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_business_user",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (
            _("Referral tree"),
            {
                "fields": (
                    "referred_by",
                    "referred_with_code",
                    "referred_at",
                    "tree_depth",
                    "referrals_link",
                )
            },
        ),
        (_("Important dates"), {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "username",
                    "phone",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    # Read-only FKs render as links to the related change page and never load a widget.
    readonly_fields = (
        "uuid",
        "referred_by",
        "referred_with_code",
        "referred_at",
        "tree_depth",
        "referrals_link",
        "last_login",
    )
    list_display = (
        "email",
        "username",
        "phone",
        "is_active",
        "is_business_user",
        "is_staff",
        "referrer_link",
        "referral_count_link",
        "date_joined",
    )
    list_display_links = ("email", "username", "phone")
    list_filter = ("is_active", "is_business_user", "is_staff")
    list_select_related = ("referred_by",)
    search_fields = ("email", "phone", "username")
    search_help_text = _("Email, phone or username (partial), or an exact uuid.")
    # Newest first by the primary key index; ordering by date_joined would sort the table.
    ordering = ("-id",)
    filter_horizontal = ("groups", "user_permissions")
    # The unfiltered total is a second COUNT(*) over the whole table on every search.
    show_full_result_count = False
    actions = ("deactivate_selected",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).annotate(referral_count=referrals_count_expression())

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        term = search_term.strip()
        try:
            exact_uuid = uuid.UUID(term)
        except ValueError:
            pass
        else:
            # uuid__icontains would cast the column to text and scan the table.
            return queryset.filter(uuid=exact_uuid), False
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        phone = phone_from_search(term)
        if phone:
            results = results | queryset.filter(phone=phone)
        return results, may_have_duplicates

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # Users are never deleted: they hold their place in the tree (and PROTECT keeps
        # referrals and codes from being orphaned). Deactivate instead.
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        if change:
            # Only what the form changed: a full save would write back the tree columns as
            # loaded, undoing a subtree move committed meanwhile (users get moved when an
            # ancestor enters an invite code).
            changed = [name for name in form.changed_data if name in _USER_COLUMNS]
            if changed:
                obj.save(update_fields=changed)
        else:
            super().save_model(request, obj, form, change)
        if not change:
            if settings.REFERRAL_CODE_ON_SIGNUP:
                code_issue(owner=obj, now=timezone.now())
            return
        if "is_active" in form.changed_data and not obj.is_active:
            user_deactivate(user=obj)  # also ends the user's refresh tokens
        elif {"username", "is_active"} & set(form.changed_data):
            codes_invalidate_for_owner(owner=obj)  # the public code lookup shows both

    @admin.action(description=_("Deactivate selected users"), permissions=("change",))
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = list(queryset.filter(is_active=True))
        for user in users:
            user_deactivate(user=user)
        self.message_user(request, _("Deactivated %(count)d users.") % {"count": len(users)})

    @admin.display(description=_("referred by"), ordering="referred_by__email")
    def referrer_link(self, obj: User) -> str:
        if obj.referred_by is None:
            return "-"
        url = reverse("admin:users_user_change", args=[obj.referred_by_id])
        return format_html('<a href="{}">{}</a>', url, obj.referred_by)

    @admin.display(description=_("referrals"), ordering="referral_count")
    def referral_count_link(self, obj: User) -> str:
        count = getattr(obj, "referral_count", 0)
        if not count:
            return "0"
        url = reverse("admin:users_user_changelist")
        return format_html('<a href="{}?referred_by__id__exact={}">{}</a>', url, obj.pk, count)

    @admin.display(description=_("direct referrals"))
    def referrals_link(self, obj: User) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:users_user_changelist")
        count = getattr(obj, "referral_count", None)
        label = (
            _("View referrals")
            if count is None
            else _("View %(count)d referrals") % {"count": count}
        )
        return format_html('<a href="{}?referred_by__id__exact={}">{}</a>', url, obj.pk, label)


# simplejwt's blacklist admin can delete entries, and a deleted entry is a refresh token
# that works again after a logout, a rotation or a deactivation ended it. Entries leave
# with their token's expiry (`manage.py flushexpiredtokens`), not by hand.
admin.site.unregister(BlacklistedToken)


@admin.register(BlacklistedToken)
class ReadOnlyBlacklistedTokenAdmin(ReadOnlyAdminMixin, BlacklistedTokenAdmin):
    pass
