"""Django admin for accounts.

The referral tree (referred_by, referred_with_code, referred_at, and the user's
referral.TreeNode) is read-only here: it is only ever changed by the services that keep
the materialized paths and the tree service's change queue consistent. date_joined is
read-only too: the tree's node keeps a copy of it to order downlines. Side effects the
API performs on a write (deactivation ending tokens, cache invalidation, the sign-up
code) go through the same services from `save_model`. Restoring and erasing are list
actions with a confirmation page, calling users.services.lifecycle as the staff API
does; an erased user's page is read-only (a tombstone takes no data).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    UserChangeForm,
)
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import Http404, HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.token_blacklist.admin import BlacklistedTokenAdmin
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from common.admin import IsSetListFilter, ReadOnlyAdminMixin, domain_errors_as_form_errors
from common.csv import csv_lines
from common.errors import DomainError
from common.formats import format_datetime
from referral.selectors import (
    referral_children,
    referral_downline_export,
    referral_position,
    referral_stats,
    referral_upline,
)
from social.admin import SocialAccountInline
from users.models import User
from users.phones import phone_from_search
from users.selectors import referrals_count_expression
from users.services.accounts import (
    PROFILE_FIELDS,
    user_changes_check,
    user_create,
    user_deactivate,
    user_fields_check_free,
    user_update,
)
from users.services.lifecycle import user_erase, user_restore

_CONTACTS = ("email", "username", "phone")
# Nodes per request of the tree on a user's page.
REFERRAL_TREE_PAGE_SIZE = 50


class _UserFieldsCleaningMixin:
    """The account rules of users.services.accounts, checked before the admin saves: the
    email, username and phone stored as the API stores them (NULL for "none", the email
    domain lower-cased, the phone in E.164), none of them another account's, an email or
    a phone kept to sign in with, and a new email deliverable. A refusal is the form's
    error on the field, with the service's code."""

    cleaned_data: dict[str, Any]
    instance: User
    fields: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # type: ignore[misc]  # the ModelForm this is mixed into
        # The instance is still as loaded: the form's values reach it after clean().
        user = self.instance if self.instance.pk else None
        with domain_errors_as_form_errors(self.fields):
            contacts = user_changes_check(
                user=user,
                changes={name: cleaned.get(name) for name in _CONTACTS if name in self.fields},
            )
            user_fields_check_free(user=user, fields=contacts)
        cleaned.update(contacts)
        return cleaned


class UserAdminCreationForm(_UserFieldsCleaningMixin, AdminUserCreationForm):
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


class ErasedListFilter(IsSetListFilter):
    title = _("erased")
    parameter_name = "erased"
    field = "erased_at"


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
                    "referral_tree",
                )
            },
        ),
        (_("Important dates"), {"fields": ("date_joined", "last_login", "erased_at")}),
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
        "referral_tree",
        "date_joined",
        "last_login",
        "erased_at",
    )
    inlines = (SocialAccountInline,)
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
    list_filter = ("is_active", "is_business_user", "is_staff", ErasedListFilter)
    list_select_related = ("referred_by",)
    search_fields = ("email", "phone", "username")
    search_help_text = _("Email, phone or username (partial), or an exact uuid.")
    # Newest first by the primary key index; ordering by date_joined would sort the table.
    ordering = ("-id",)
    filter_horizontal = ("groups", "user_permissions")
    # The unfiltered total is a second COUNT(*) over the whole table on every search.
    show_full_result_count = False
    actions = ("deactivate_selected", "restore_selected", "erase_selected")

    class Media:
        js = ("users/admin/referral-tree.js",)
        css = {"all": ("users/admin/referral-tree.css",)}

    def get_urls(self) -> list[URLPattern]:
        # The tree on a user's page: one request per expanded node (ReferralTreeNodesView),
        # and the whole downline as CSV. Staff who may view users, like the page itself.
        def view(function: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
            return self.admin_site.admin_view(function)

        return [
            path(
                "<path:object_id>/referrals.json",
                view(self.referral_children_view),
                name="users_user_referrals_json",
            ),
            path(
                "<path:object_id>/downline.csv",
                view(self.downline_csv_view),
                name="users_user_downline_csv",
            ),
            *super().get_urls(),
        ]

    def _viewable_user(self, request: HttpRequest, object_id: str) -> User:
        user = self.get_object(request, object_id)
        if user is None:
            raise Http404
        if not self.has_view_permission(request, user):
            raise PermissionDenied
        return user

    def referral_children_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        """A page of the user's direct referrals, for the tree on the change page:
        `?page=` from 1, REFERRAL_TREE_PAGE_SIZE nodes a page."""
        user = self._viewable_user(request, object_id)
        try:
            page = max(1, int(request.GET.get("page", "1")))
        except ValueError:
            page = 1
        nodes, count = referral_children(
            user=user, offset=(page - 1) * REFERRAL_TREE_PAGE_SIZE, limit=REFERRAL_TREE_PAGE_SIZE
        )
        has_next = page * REFERRAL_TREE_PAGE_SIZE < count
        return JsonResponse(
            {
                "count": count,
                "page": page,
                "next": f"?page={page + 1}" if has_next else None,
                "nodes": [
                    {
                        "uuid": str(node.uuid),
                        "label": node.label,
                        "joined": format_datetime(node.date_joined),
                        "direct": node.direct,
                        "total": node.total,
                        "url": reverse("admin:users_user_change", args=[node.id]),
                        "children_url": reverse("admin:users_user_referrals_json", args=[node.id]),
                    }
                    for node in nodes
                ],
            }
        )

    def downline_csv_view(self, request: HttpRequest, object_id: str) -> StreamingHttpResponse:
        """The user's whole downline as CSV (uuid, email, level, referrer, joined), streamed
        from the database a chunk at a time (referral_downline_export)."""
        user = self._viewable_user(request, object_id)
        response = StreamingHttpResponse(
            csv_lines(
                ("uuid", "email", "level", "referrer", "joined"),
                (
                    (
                        row["uuid"],
                        row["email"] or "",
                        row["level"],
                        row["referrer"],
                        format_datetime(row["date_joined"]),
                    )
                    for row in referral_downline_export(user=user)
                ),
            ),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="downline-{user.uuid}.csv"'
        return response

    @admin.display(description=_("place in the tree"))
    def referral_tree(self, obj: User) -> str:
        if obj.pk is None:
            return "-"
        return render_to_string(
            "admin/users/user/referral_tree.html",
            {
                "user": obj,
                "upline": list(reversed(referral_upline(user=obj))),
                "stats": referral_stats(user=obj),
                "nodes_url": reverse("admin:users_user_referrals_json", args=[obj.pk]),
                "csv_url": reverse("admin:users_user_downline_csv", args=[obj.pk]),
            },
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).annotate(referral_count=referrals_count_expression())

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list[type[InlineModelAdmin]]:
        # The social accounts inline only shows them (changes go through their own admin):
        # it has nothing to save, so a form posted without its formset is complete.
        if request.method not in ("GET", "HEAD"):
            return []
        return list(super().get_inlines(request, obj))

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

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and obj.is_erased:
            return False  # a tombstone: viewable, never edited back to life
        return super().has_change_permission(request, obj)

    def has_erase_permission(self, request: HttpRequest) -> bool:
        """Erasure is this admin's deletion: it takes the permission to delete users."""
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.delete_{opts.model_name}")

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        if not change:
            self._create(obj, form)
            return
        # Only what the form changed, through the services: a full save would write back
        # the referrer columns as loaded, undoing a change committed meanwhile (an
        # erasure of the referrer re-attaches this user to the referrer's own).
        changed = set(form.changed_data)
        profile = {name: getattr(obj, name) for name in PROFILE_FIELDS if name in changed}
        if profile:
            # Compared with the row as stored: `obj` carries the form's values already.
            user_update(user=User.objects.get(pk=obj.pk), changes=profile)
        other = [
            name
            for name in changed
            if name in _USER_COLUMNS and name not in PROFILE_FIELDS and name != "is_active"
        ]
        if other:
            obj.save(update_fields=other)
        if "is_active" in changed:
            if obj.is_active:
                user_restore(user=obj, now=timezone.now())
            else:
                user_deactivate(user=obj)  # also ends the user's refresh tokens

    def _create(self, obj: User, form: ModelForm) -> None:
        """A sign-up by staff: user_create, as the API's (the first referral code, the
        change queue), with the password the form took, if any."""
        password = form.cleaned_data.get("password1")
        created = user_create(
            email=obj.email,
            username=obj.username,
            phone=obj.phone,
            password=password if form.cleaned_data.get("set_usable_password") else None,
            now=timezone.now(),
        )
        # The admin goes on to log and redirect to `obj`, so it must become the saved row.
        for field in User._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        obj._state.db = created._state.db

    @admin.action(description=_("Deactivate selected users"), permissions=("change",))
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = list(queryset.filter(is_active=True))
        for user in users:
            user_deactivate(user=user)
        self.message_user(request, _("Deactivated %(count)d users.") % {"count": len(users)})

    @admin.action(description=_("Restore selected users"), permissions=("change",))
    def restore_selected(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> TemplateResponse | None:
        users = list(queryset.filter(is_active=False, erased_at__isnull=True))
        if not request.POST.get("post"):
            return self._confirm(
                request,
                users,
                action="restore_selected",
                title=_("Restore users"),
                question=_(
                    "Restore these deactivated users? They can sign in again and their codes "
                    "work again where still valid; the tokens deactivation ended stay dead."
                ),
                lines=[str(user) for user in users],
            )
        now = timezone.now()
        restored = self._each(request, users, lambda user: user_restore(user=user, now=now))
        self.message_user(request, _("Restored %(count)d users.") % {"count": restored})
        return None

    @admin.action(description=_("Erase selected users for good"), permissions=("erase",))
    def erase_selected(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> TemplateResponse | None:
        users = list(queryset.filter(erased_at__isnull=True).select_related("referred_by"))
        if not request.POST.get("post"):
            return self._confirm(
                request,
                users,
                action="erase_selected",
                title=_("Erase users"),
                question=_(
                    "Erase these users for good? Their personal data, social accounts and "
                    "tokens are deleted, their codes stop working, and their direct referrals "
                    "move up to their referrer with everyone below them. This cannot be "
                    "undone."
                ),
                lines=[self._erasure_line(user) for user in users],
            )
        now = timezone.now()
        erased = self._each(request, users, lambda user: user_erase(user=user, now=now))
        self.message_user(request, _("Erased %(count)d users.") % {"count": erased})
        return None

    def _erasure_line(self, user: User) -> str:
        referrals = getattr(user, "referral_count", 0)
        if user.referred_by is None:
            return _("%(user)s: %(count)d direct referrals become roots") % {
                "user": user,
                "count": referrals,
            }
        return _("%(user)s: %(count)d direct referrals move to %(referrer)s") % {
            "user": user,
            "count": referrals,
            "referrer": user.referred_by,
        }

    def _confirm(
        self,
        request: HttpRequest,
        users: list[User],
        *,
        action: str,
        title: str | Promise,
        question: str | Promise,
        lines: list[str],
    ) -> TemplateResponse:
        """A confirmation page like Django's for deleting: the users, what will happen,
        and a form that posts the action again with `post=yes`."""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "question": question,
            "lines": lines,
            "users": users,
            "action": action,
            "opts": self.opts,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/users/user/action_confirmation.html", context)

    def _each(self, request: HttpRequest, users: list[User], act: Any) -> int:
        """Run `act` on each user in its own transaction (so one user's tree is locked at a
        time); a user the service refuses (changed meanwhile) is reported and skipped."""
        done = 0
        for user in users:
            try:
                act(user)
            except DomainError as exc:
                self.message_user(request, f"{user}: {exc.detail}", level=messages.WARNING)
            else:
                done += 1
        return done

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

    @admin.display(description=_("level"))
    def tree_depth(self, obj: User) -> int | str:
        """0 for a root, 1 for a direct referral of a root, and so on."""
        if obj.pk is None:
            return "-"
        return referral_position(user_id=obj.pk).depth

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
