"""Triggers that queue every change of a synced user field, in the changing transaction.

Synced fields are those the tree service reads (API.md, "Change queue"): uuid, referrer,
email, first and last name, phone, is_business_user, is_active, date_joined; plus
creation and deletion (erasure).

On Postgres the trigger is a DEFERRED constraint trigger: it runs at COMMIT, takes the
sync advisory lock shared, and stamps `queued_at` with clock_timestamp(). A poll takes
that lock exclusively before its snapshot, so every change stamped before the poll has
committed by the time the poll reads, and every later one is stamped after the poll
began. On SQLite every writing transaction is IMMEDIATE (serialized) and a poll opens
one too before reading, which gives the same guarantee.
"""

from django.db import migrations

SYNCED = [
    "uuid",
    "referred_by_id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "is_business_user",
    "is_active",
    "date_joined",
]

POSTGRES_CREATE = f"""
CREATE OR REPLACE FUNCTION sync_user_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(3, 0);
    INSERT INTO sync_userchange (user_uuid, queued_at)
    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.uuid ELSE NEW.uuid END, clock_timestamp());
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER sync_user_insert_delete
    AFTER INSERT OR DELETE ON users_user
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION sync_user_change();

CREATE CONSTRAINT TRIGGER sync_user_update
    AFTER UPDATE ON users_user
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (({", ".join("OLD." + c for c in SYNCED)}) IS DISTINCT FROM ({", ".join("NEW." + c for c in SYNCED)}))
    EXECUTE FUNCTION sync_user_change();
"""

POSTGRES_DROP = """
DROP TRIGGER IF EXISTS sync_user_update ON users_user;
DROP TRIGGER IF EXISTS sync_user_insert_delete ON users_user;
DROP FUNCTION IF EXISTS sync_user_change();
"""

# Exactly how Django writes a datetime to SQLite (str(datetime): six fractional digits,
# none when they are all zero), so stamps compare equal and in order with Django's own
# values; strftime gives milliseconds.
_SQLITE_NOW = (
    "(SELECT CASE WHEN substr(t, 21, 3) = '000' THEN substr(t, 1, 19) ELSE t || '000' END"
    " FROM (SELECT strftime('%Y-%m-%d %H:%M:%f', 'now') AS t))"
)
SQLITE_CREATE = [
    f"""CREATE TRIGGER sync_user_insert AFTER INSERT ON users_user BEGIN
        INSERT INTO sync_userchange (user_uuid, queued_at) VALUES (NEW.uuid, {_SQLITE_NOW});
    END""",
    f"""CREATE TRIGGER sync_user_delete AFTER DELETE ON users_user BEGIN
        INSERT INTO sync_userchange (user_uuid, queued_at) VALUES (OLD.uuid, {_SQLITE_NOW});
    END""",
    f"""CREATE TRIGGER sync_user_update AFTER UPDATE ON users_user
    WHEN {" OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in SYNCED)}
    BEGIN
        INSERT INTO sync_userchange (user_uuid, queued_at) VALUES (NEW.uuid, {_SQLITE_NOW});
    END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS sync_user_insert",
    "DROP TRIGGER IF EXISTS sync_user_delete",
    "DROP TRIGGER IF EXISTS sync_user_update",
]


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE)
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)
    else:
        raise NotImplementedError(f"change-queue triggers for {vendor}")


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)
    else:
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


def recreate_triggers(apps, schema_editor):
    """For the migrations after one that makes SQLite rebuild users_user (0003's
    docstring): the rebuilt table has none of the old one's triggers."""
    drop_triggers(apps, schema_editor)
    create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0001_user_change"),
        ("users", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
