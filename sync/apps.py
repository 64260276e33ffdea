from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class SyncConfig(AppConfig):
    name = "sync"

    def ready(self) -> None:
        from rest_framework_api_key.models import APIKey

        from common.metrics import scrape_collectors
        from sync import auth  # noqa: F401  registers the OpenAPI security scheme
        from sync.metrics import ChangeQueueCollector
        from sync.receivers import api_key_forget

        post_save.connect(api_key_forget, sender=APIKey, dispatch_uid="sync.api_key_saved")
        post_delete.connect(api_key_forget, sender=APIKey, dispatch_uid="sync.api_key_deleted")
        if not any(isinstance(c, ChangeQueueCollector) for c in scrape_collectors):
            scrape_collectors.append(ChangeQueueCollector())
