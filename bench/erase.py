"""Time the erasure of a user with a large downline, on Postgres.

    createdb -h 127.0.0.1 -U postgres referral_erase_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/referral_erase_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_demo --users 1000000 --seed 1
    PYTHONPATH=. .venv/bin/python bench/erase.py [--min-downline 100000] [--runs 3] \
        [--rollback]

Each run picks the user below a root (so the erasure re-attaches their referrals to a
referrer) with the smallest downline of at least --min-downline users, and times
users.services.lifecycle.user_erase on it, committed (the deferred change-queue triggers
and foreign keys included). An erasure changes the forest, so each run erases another
user; re-seed for the same figures. With --rollback the erasure runs to its end, fires
its deferred triggers, and is rolled back instead: the same user again on every run, all
but the commit's own WAL flush.

The yardstick, in the same run: one bare UPDATE rewriting the same nodes' paths and
depths in referral_treenode as the erasure does, rolled back. No materialized-path design
on this table can do less; the ratio is what the service adds (locks, the tombstone,
codes, tokens, the queue, commit). Each figure comes with the Postgres backend's CPU
seconds, which the host's load does not inflate the way it does wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def _candidates(min_downline: int) -> list[tuple[int, int, int]]:
    """(downline, user id, depth) of the not-erased users at depth >= 1 with at least
    `min_downline` users below, smallest downline first. One scan of the table per level:
    the ancestor at depth d is the (d+2)-th slash-separated part of a descendant's path."""
    from django.db import connection

    found: list[tuple[int, int, int]] = []
    with connection.cursor() as cursor:
        for depth in range(1, 250):
            cursor.execute(
                "SELECT split_part(path, '/', %s), count(*) FROM referral_treenode"
                " WHERE depth > %s GROUP BY 1 HAVING count(*) >= %s",
                [depth + 2, depth, min_downline],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            found += [(count, int(part, 36), depth) for part, count in rows]
    return sorted(found)


def _yardstick(prefix: str, parent_path: str) -> float:
    """Seconds for the bare rewrite of the downline under `prefix`, rolled back."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        start = time.perf_counter()
        cursor.execute(
            "UPDATE referral_treenode SET path = %s || substr(path, %s),"
            " depth = depth - 1 WHERE path ~>=~ %s AND path ~<~ %s",  # TreeNode's `within`
            [parent_path, len(prefix) + 1, prefix, prefix[:-1] + "0"],
        )
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return elapsed


def _backend_cpu() -> float:
    """CPU seconds (user + system) the Postgres backend of this connection has used: what
    a statement costs whatever else the host runs (Postgres on this machine only)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-downline", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--rollback", action="store_true", help="roll each erasure back")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from referral.models import TreeNode
    from referral.selectors import referral_position, referral_stats
    from users.models import User
    from users.services.lifecycle import user_erase

    if connection.vendor != "postgresql":
        sys.exit("bench/erase.py measures Postgres: set DATABASE_URL")
    print(f"users: {User.objects.count():,}")
    ratios = []
    for run in range(1, args.runs + 1):
        # Erased users are lone roots: never candidates. The forest changed: look again.
        candidates = _candidates(args.min_downline)
        if not candidates:
            sys.exit(f"no user with a downline of {args.min_downline:,}: seed more users")
        downline, user_id, depth = candidates[0]
        user = User.objects.get(pk=user_id)
        referrer = user.referred_by
        assert referrer is not None  # a candidate has depth >= 1
        before = referral_stats(user=referrer).total
        direct = User.objects.filter(referred_by=user).count()
        print(
            f"run {run}: user {user.pk} ({user.uuid}), depth {depth}, downline {downline:,},"
            f" {direct:,} direct referrals"
        )
        position = referral_position(user_id=user.pk)
        # Warm the downline's pages, as a busy server would have them.
        TreeNode.objects.filter(path__within=position.subtree_prefix).count()
        cpu = _backend_cpu()
        yardstick = _yardstick(position.subtree_prefix, position.path)
        yardstick_cpu = _backend_cpu() - cpu

        cpu = _backend_cpu()
        with transaction.atomic():
            start = time.perf_counter()
            user_erase(user=user, now=timezone.now())
            if args.rollback:
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the commit's triggers
                elapsed = time.perf_counter() - start
                erasure_cpu = _backend_cpu() - cpu
                after = referral_stats(user=User.objects.get(pk=referrer.pk)).total
                transaction.set_rollback(True)
        if not args.rollback:
            elapsed = time.perf_counter() - start
            erasure_cpu = _backend_cpu() - cpu
            after = referral_stats(user=User.objects.get(pk=referrer.pk)).total
        assert after == before - 1, (before, after)  # all but the erased user moved up
        ratios.append(elapsed / yardstick)
        how = "rolled back" if args.rollback else "committed"
        print(
            f"  erasure {elapsed:.3f} s ({how}); yardstick (bare UPDATE of the same rows,"
            f" rolled back) {yardstick:.3f} s; ratio {elapsed / yardstick:.2f}"
        )
        print(
            f"  Postgres backend CPU: erasure {erasure_cpu:.2f} s, yardstick {yardstick_cpu:.2f} s"
        )
    if len(ratios) > 1:
        print(f"median ratio {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
