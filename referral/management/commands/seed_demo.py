"""Fill the database with a realistic referral forest for demos and benchmarks.

    python manage.py seed_demo --users 1000000 [--seed 1] [--report seed.json]

The forest is generated in memory first (referral.demo: who refers whom, ids, tree
paths, codes), then written in one transaction: COPY on Postgres, bulk_create elsewhere.
Every row is what the services would have written for the same sign-ups
(referral.services, codes.services): one active code per user, `uses` = the referrals
made with it, a tree node (path and depth) from the chain for each user with a referrer.

To load another table (the sync change queue), add one TableLoad to `_tables`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from codes.models import ReferralCode
from common.db import statement_timeout
from referral.demo import (
    CODE_COLUMNS,
    EMAIL_DOMAIN,
    PASSWORD,
    PERIOD,
    TREE_COLUMNS,
    USER_COLUMNS,
    Forest,
    Row,
    code_rows,
    forest_summary,
    generate_forest,
    tree_node_rows,
    user_rows,
)
from referral.models import TreeNode
from users.models import User

BATCH_SIZE = 1_000  # bulk_create


@dataclass(frozen=True)
class TableLoad:
    """Rows for one table, in `columns` order. Columns are model attnames, which are the
    database columns too, so one tuple serves COPY and `Model(**dict(zip(columns, row)))`."""

    model: type[models.Model]
    columns: tuple[str, ...]
    rows: Callable[[], Iterable[Row]]
    count: int


class Command(BaseCommand):
    help = "Add a demo referral forest of --users users, all with the password demo-password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, required=True, help="How many users to add.")
        parser.add_argument("--seed", type=int, default=None, help="Random seed (reproducible).")
        parser.add_argument("--report", type=Path, default=None, help="Write the JSON report here.")

    def handle(
        self, *args: Any, users: int, seed: int | None, report: Path | None, **options: Any
    ) -> None:
        if users < 1:
            raise CommandError("--users must be at least 1.")
        if seed is None:
            seed = random.SystemRandom().randrange(2**31)
        self._started = time.monotonic()
        self._say(f"Seeding {users:,} users (--seed {seed}) into {connection.vendor}.")
        # Hashed once: at Argon2 cost, one hash per user would take hours.
        password_hash = make_password(PASSWORD)

        # A million rows and their deferred checks at commit take minutes, not seconds.
        with (
            statement_timeout(settings.DATABASE_COMMAND_STATEMENT_TIMEOUT_MS),
            transaction.atomic(),
        ):
            if connection.vendor == "postgresql":
                # Ids are allocated from max(id): keep other writers out until commit.
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"LOCK TABLE {_table(User)}, {_table(ReferralCode)} "
                        "IN SHARE ROW EXCLUSIVE MODE"
                    )
            forest = self._generate(size=users, seed=seed)
            for table in _tables(forest, password_hash=password_hash):
                self._load(table)
            self._reset_sequences()
            self._say("Committing (the deferred foreign keys are checked now).")
        self._say("Committed.")
        self._vacuum()

        summary = forest_summary(forest)
        self._print_summary(summary)
        if report is not None:
            report.write_text(json.dumps(summary, indent=2) + "\n")
            self._say(f"Report written to {report}.")
        self._say(f"Done: {users:,} users in {time.monotonic() - self._started:.1f} s.")

    def _generate(self, *, size: int, seed: int) -> Forest:
        first_user_id = (User.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
        self._say(f"Generating the forest (user ids from {first_user_id:,}).")
        forest = generate_forest(
            size=size,
            seed=seed,
            first_user_id=first_user_id,
            first_code_id=(ReferralCode.objects.aggregate(top=Max("pk"))["top"] or 0) + 1,
            start=timezone.now() - PERIOD - timedelta(minutes=1),
            max_depth=settings.REFERRAL_MAX_DEPTH,
            code_length=settings.REFERRAL_CODE_LENGTH,
            taken_codes=_existing_codes(),
            taken_contacts=_existing_contacts(),
            progress=self._progress("placed", size),
        )
        self._say("Generated.")
        return forest

    def _load(self, table: TableLoad) -> None:
        progress = self._progress(f"{table.model._meta.db_table}: wrote", table.count)
        if connection.vendor == "postgresql":
            _copy(table, progress)
        else:
            _bulk_create(table, progress)

    def _reset_sequences(self) -> None:
        # The ids were assigned here, so the sequences still point below them.
        statements = connection.ops.sequence_reset_sql(no_style(), [User, ReferralCode])
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    def _vacuum(self) -> None:
        # Fresh rows are not in the visibility map, so the index-only scans of the tree
        # stats would visit the heap until autovacuum comes by, and the planner needs
        # statistics for tables that just grew. VACUUM cannot run inside a transaction
        # (as under a test), where it is skipped.
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return
        with connection.cursor() as cursor:
            for model in (User, ReferralCode, TreeNode):
                cursor.execute(f"VACUUM (ANALYZE) {_table(model)}")
        self._say("Vacuumed and analyzed.")

    def _say(self, message: str) -> None:
        self.stdout.write(f"[{time.monotonic() - self._started:7.1f}s] {message}")
        self.stdout.flush()

    def _progress(self, what: str, total: int) -> Callable[[int], None]:
        step = max(10_000, total // 10)
        next_at = [min(step, total)]

        def progress(done: int) -> None:
            if done >= next_at[0]:
                self._say(f"  {what} {done:,} / {total:,}")
                next_at[0] = min(done + step - done % step, total)
                if done >= total:
                    next_at[0] = total + 1

        return progress

    def _print_summary(self, summary: dict[str, Any]) -> None:
        self._say(f"Password of every seeded user: {summary['password']}")
        for key, label in (
            ("largest_tree_root", "Root of the largest tree"),
            ("most_referrals", "Most direct referrals"),
            ("about_1000_referrals", "About 1,000 direct referrals"),
            ("deepest_leaf", "Deepest leaf"),
        ):
            user = summary[key]
            self._say(
                f"{label}: {user['uuid']} {user['email']} code {user['code']} "
                f"(direct {user['direct_referrals']:,}, downline {user['downline']:,}, "
                f"depth {user['depth']})"
            )


def _tables(forest: Forest, *, password_hash: str) -> list[TableLoad]:
    """What to write, in order. Users come first although they reference codes written
    after them: the foreign keys are deferred to the commit."""
    return [
        TableLoad(
            model=User,
            columns=USER_COLUMNS,
            rows=lambda: user_rows(forest, password_hash=password_hash),
            count=forest.size,
        ),
        TableLoad(
            model=ReferralCode,
            columns=CODE_COLUMNS,
            rows=lambda: code_rows(forest),
            count=forest.size,
        ),
        TableLoad(
            model=TreeNode,
            columns=TREE_COLUMNS,
            rows=lambda: tree_node_rows(forest),
            count=sum(1 for referrer in forest.parent if referrer >= 0),
        ),
    ]


def _copy(table: TableLoad, progress: Callable[[int], None]) -> None:
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.model._meta.db_table),
        sql.SQL(", ").join(sql.Identifier(column) for column in table.columns),
    )
    connection.ensure_connection()
    # The raw psycopg connection, inside the transaction Django opened on it.
    with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        for done, row in enumerate(table.rows(), start=1):
            copy.write_row(row)
            progress(done)


def _bulk_create(table: TableLoad, progress: Callable[[int], None]) -> None:
    model, done, batch = table.model, 0, []
    for row in table.rows():
        batch.append(model(**dict(zip(table.columns, row, strict=True))))
        if len(batch) == BATCH_SIZE:
            model._default_manager.bulk_create(batch)
            done += len(batch)
            progress(done)
            batch = []
    model._default_manager.bulk_create(batch)
    progress(done + len(batch))


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _existing_codes() -> set[str]:
    return set(ReferralCode.objects.values_list("code", flat=True))


def _existing_contacts() -> dict[str, set[str]]:
    users = User.objects.all()
    emails = users.filter(email__iendswith=f"@{EMAIL_DOMAIN}").values_list("email", flat=True)
    usernames = users.filter(username__isnull=False).values_list("username", flat=True)
    phones = users.filter(phone__startswith="+79").values_list("phone", flat=True)
    return {
        # The columns are nullable; the filters above leave out NULL, which the types miss.
        "email": {email.lower() for email in emails if email is not None},
        "username": {username.lower() for username in usernames if username is not None},
        "phone": {phone for phone in phones if phone is not None},
    }
