from django.urls import path

from sync import views

app_name = "sync"

urlpatterns = [
    path("user-sync/", views.UserSyncView.as_view(), name="user-sync"),
    path("users/batch/", views.UserExportBatchView.as_view(), name="user-batch"),
    # users/<uuid>/ (GET: views.UserExportDetailView) is routed by users.urls, whose view
    # adds the staff's DELETE on that path.
]
