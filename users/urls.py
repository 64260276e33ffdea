from django.urls import path

from users import views

app_name = "users"

urlpatterns = [
    path("users/", views.UserRegisterView.as_view(), name="user-register"),
    path("users/me/", views.UserMeView.as_view(), name="user-me"),
    path("users/<uuid:uuid>/", views.UserDetailView.as_view(), name="user-detail"),
    path("users/<uuid:uuid>/restore/", views.UserRestoreView.as_view(), name="user-restore"),
    path("users/set_password/", views.PasswordSetView.as_view(), name="password-set"),
    path("users/reset_password/", views.PasswordResetView.as_view(), name="password-reset"),
    path(
        "users/reset_password_confirm/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("auth/jwt/create/", views.TokenCreateView.as_view(), name="jwt-create"),
    path("auth/jwt/refresh/", views.TokenRefreshView.as_view(), name="jwt-refresh"),
    path("auth/jwt/verify/", views.TokenVerifyView.as_view(), name="jwt-verify"),
    path("auth/jwt/logout/", views.TokenLogoutView.as_view(), name="jwt-logout"),
    path("auth/phone/code/", views.PhoneCodeSendView.as_view(), name="phone-code-send"),
    path("auth/phone/token/", views.PhoneTokenCreateView.as_view(), name="phone-token-create"),
]
