"""Transaction-scoped advisory locks.

On Postgres these are `pg_advisory_xact_lock`s, released at commit or rollback. SQLite has
no row or advisory locks, but the embedded default opens every transaction IMMEDIATE, so
writers are serialized as a whole and these are no-ops there.
"""

from django.db import connection

# One namespace per kind of lock, so ids of different things never share a lock.
TREE = 1
CODE_OWNER = 2


def advisory_lock(*, namespace: int, key: int, shared: bool = False) -> None:
    """Block until this transaction holds the (namespace, key) lock. Call inside atomic()."""
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        # The two-int4 form: keys past 2**31 fold onto others, which only over-serializes.
        cursor.execute(f"SELECT {function}(%s, %s)", [namespace, key % 2**31])


# Writers stamp their change-queue rows holding this one shared; a poll takes it exclusively
# (sync.selectors.commit_barrier).
SYNC_QUEUE = 3
