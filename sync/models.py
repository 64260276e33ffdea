from django.db import models


class UserChange(models.Model):
    """One change of a user that the tree service can see (the outbox).

    Rows are written by database triggers on users_user (migration
    0002_user_change_triggers) in the transaction of the change itself, so no write path
    (services, the admin, bulk updates, raw SQL) can change a synced field without
    queueing it. `user_uuid` is not a foreign key: an erased user's changes outlive it.
    """

    user_uuid = models.UUIDField()
    queued_at = models.DateTimeField()

    class Meta:
        indexes = [
            # `since` polls: an index-only range scan.
            models.Index(fields=["queued_at", "user_uuid"], name="sync_change_queued_idx"),
            # Retention: find the superseded changes of a user.
            models.Index(fields=["user_uuid", "queued_at"], name="sync_change_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_uuid} @ {self.queued_at:%Y-%m-%dT%H:%M:%S}"
