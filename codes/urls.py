from django.urls import path

from codes import views

app_name = "codes"

urlpatterns = [
    path("codes/", views.CodeListCreateView.as_view(), name="code-list"),
    # Before the detail route, which would take "send-email" for a code.
    path("codes/send-email/", views.CodeSendEmailView.as_view(), name="code-send-email"),
    path("codes/<str:code>/", views.CodeDetailView.as_view(), name="code-detail"),
    path(
        "referral-codes/<str:code>/",
        views.PublicCodeDetailView.as_view(),
        name="public-code-detail",
    ),
]
