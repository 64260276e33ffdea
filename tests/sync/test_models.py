"""The database rules of sync.models. UserChange has no CheckConstraint or UniqueConstraint;
its rows are written by triggers on users_user (sync migrations 0002 to 0004): installed after
every migration, bound to the lock the polls take, and (test_write_paths.py) fired by every
write path."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from common import locks

pytestmark = pytest.mark.django_db

TRIGGERS = importlib.import_module("sync.migrations.0002_user_change_triggers")


class TestUserChangeTriggers:
    def test_stamp_under_the_lock_polls_take(self) -> None:
        # Migrations copy what they need rather than import app code, so nothing else ties the
        # number in the trigger's SQL to common.locks.SYNC_QUEUE (sync.selectors.commit_barrier).
        assert f"pg_advisory_xact_lock_shared({locks.SYNC_QUEUE}, 0)" in TRIGGERS.POSTGRES_CREATE

    def test_are_all_installed_after_the_migrations(self) -> None:
        """A migration that makes SQLite rebuild users_user drops its triggers; one after it
        must install them again (sync 0003)."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = 'users_user'::regclass"
                    " AND NOT tgisinternal"
                )
                expected = {"sync_user_insert_delete", "sync_user_update"}
            else:
                cursor.execute(
                    "SELECT name FROM sqlite_master"
                    " WHERE type = 'trigger' AND tbl_name = 'users_user'"
                )
                expected = {"sync_user_insert", "sync_user_delete", "sync_user_update"}
            installed = {row[0] for row in cursor.fetchall()}

        assert installed == expected
