from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin, with config.admin's site as the default one."""

    default_site = "config.admin.ReferralAdminSite"
