from django.apps import AppConfig
from django.db.models import UUIDField


class CommonConfig(AppConfig):
    name = "common"

    def ready(self) -> None:
        from common.lookups import AnyOf

        UUIDField.register_lookup(AnyOf)
