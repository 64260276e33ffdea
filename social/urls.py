from django.urls import path

from social import views

app_name = "social"

urlpatterns = [
    path(
        "users/me/social-accounts/",
        views.SocialAccountListCreateView.as_view(),
        name="social-account-list",
    ),
    path(
        "users/me/social-accounts/<uuid:uuid>/",
        views.SocialAccountDetailView.as_view(),
        name="social-account-detail",
    ),
]
