from django.urls import path

from sync import views

app_name = "sync"

urlpatterns = [
    path("user-sync/", views.UserSyncView.as_view(), name="user-sync"),
    path("users/batch/", views.UserExportBatchView.as_view(), name="user-batch"),
    path("users/<uuid:uuid>/", views.UserExportDetailView.as_view(), name="user-detail"),
]
