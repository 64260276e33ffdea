"""The change queue's triggers: installed after every migration, and bound to the lock the
polls take."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from common import locks

pytestmark = pytest.mark.django_db

TRIGGERS = importlib.import_module("sync.migrations.0002_user_change_triggers")


def test_the_trigger_stamps_under_the_lock_polls_take() -> None:
    # Migrations copy what they need rather than import app code, so nothing else ties the
    # number in the trigger's SQL to common.locks.SYNC_QUEUE (sync.selectors.commit_barrier).
    assert f"pg_advisory_xact_lock_shared({locks.SYNC_QUEUE}, 0)" in TRIGGERS.POSTGRES_CREATE


def test_every_trigger_is_installed_after_the_migrations() -> None:
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
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'users_user'"
            )
            expected = {"sync_user_insert", "sync_user_delete", "sync_user_update"}
        installed = {row[0] for row in cursor.fetchall()}

    assert installed == expected
