from django.urls import path

from referral import views

app_name = "referral"

urlpatterns = [
    path("referrals/", views.ReferralListView.as_view(), name="referral-list"),
    path("referrals/tree/", views.ReferralTreeView.as_view(), name="referral-tree"),
    path("referrals/stats/", views.ReferralStatsView.as_view(), name="referral-stats"),
    path("referrals/upline/", views.ReferralUplineView.as_view(), name="referral-upline"),
    path("users/me/referrer/", views.ReferrerSetView.as_view(), name="referrer-set"),
    path(
        "users/<uuid:uuid>/referrals/",
        views.UserReferralListView.as_view(),
        name="user-referral-list",
    ),
]
