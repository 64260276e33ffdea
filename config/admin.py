"""The admin site: Django's, with the referral programme's dashboard among its pages.

INSTALLED_APPS names config.apps.AdminConfig, which makes this the default site
(`django.contrib.admin.site`), so every app's `admin.py` registers its models here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.translation import gettext_lazy as _

from referral.admin_views import dashboard_view


class ReferralAdminSite(admin.AdminSite):
    def get_urls(self) -> list[URLPattern | URLResolver]:
        # Before Django's own: /admin/referral/… would otherwise be read as a model's URL.
        return [
            path(
                "referral/dashboard/",
                self.admin_view(self.dashboard),
                name="referral_dashboard",
            ),
            *super().get_urls(),
        ]

    def dashboard(self, request: HttpRequest) -> HttpResponse:
        return dashboard_view(request, site_context=self.each_context(request))

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        """Django's list, with the dashboard as the first entry of "Referral" for staff who
        may see it (the admin's index links it from there)."""
        app_list = super().get_app_list(request, app_label)
        if app_label not in (None, "referral") or not request.user.has_perm("users.view_user"):
            return app_list
        url = reverse("admin:referral_dashboard", current_app=self.name)
        entry = {
            "name": _("Dashboard"),
            "object_name": "Dashboard",
            "perms": {"view": True},
            "admin_url": url,
            "add_url": None,
            "view_only": True,
        }
        app = next((app for app in app_list if app["app_label"] == "referral"), None)
        if app is None:
            app = {
                "name": _("Referral programme"),
                "app_label": "referral",
                "app_url": url,
                "has_module_perms": True,
                "models": [],
            }
            app_list.append(app)
            app_list.sort(key=lambda app: str(app["name"]).lower())
        app["models"].insert(0, entry)
        return app_list
