"""Fill the database with a realistic referral forest for demos and benchmarks.

    python manage.py seed_demo --users 1000000 [--seed 1] [--report seed.json]

The forest is generated in memory first (ids, tree paths, codes), then written in one
transaction: COPY on Postgres, bulk_create elsewhere. Every row is what the services
would have written for the same sign-ups (referral.services, codes.services): one active
code per user, `uses` = the referrals made with it, tree_path/tree_depth from the chain.

The shape, in sign-up order:
- ROOT_SHARE of users sign up without a code (organic sign-ups: the roots);
- RECENT_SHARE of the others are invited by someone who joined just before them (friends
  signing up together), which is what makes chains deep;
- the rest pick their referrer by preferential attachment within a recency window: each
  user holds a heavy-tailed number of tickets (how keen an inviter they are) plus one per
  referral made, and only recent tickets are drawn, because people stop inviting after a
  while. A few users get very many referrals, most get none;
- one early influencer gets INFLUENCER_REFERRALS sign-ups and one invite chain of
  CHAIN_LENGTH users runs through the whole period: from GUARANTEE_FROM users on, the
  benchmarks always find a user with >= 1,000 direct referrals and a chain >= 20 deep.

To load another table (the sync change queue), add one TableLoad to `_tables`.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from codes.services import GENERATED_ALPHABET
from users.models import User, to_base36

PASSWORD = "demo-password"
EMAIL_DOMAIN = "demo.example"
CODE_LENGTH = 8
PERIOD = timedelta(days=730)

ROOT_SHARE = 0.10
RECENT_SHARE = 0.20
RECENT_WINDOW = 50
KEENNESS_ALPHA = 1.2  # Pareto tail of the tickets a user starts with
KEENNESS_CAP = 5_000
URN_WINDOW_PER_USER = 1.0  # tickets drawn from: roughly those of the last fifth of users

GUARANTEE_FROM = 10_000
INFLUENCER_REFERRALS = 1_100
CHAIN_LENGTH = 25

USERNAME_SHARE = 0.85
PHONE_SHARE = 0.40
BUSINESS_SHARE = 0.05
FEMALE_NAMES = frozenset(
    ("Anna", "Anastasia", "Daria", "Ekaterina", "Elena", "Emma", "Irina", "Ksenia", "Maria",
     "Natalia", "Olga", "Polina", "Sofia", "Tatiana", "Yulia")
)  # fmt: skip
FIRST_NAMES = (
    *sorted(FEMALE_NAMES),
    "Alexander", "Alexey", "Andrey", "Boris", "Dmitry", "Ivan", "John", "Kirill", "Maxim",
    "Mikhail", "Nikita", "Pavel", "Roman", "Sergey", "Vladimir",
)  # fmt: skip
LAST_NAMES = (
    "Ivanov", "Smirnov", "Kuznetsov", "Popov", "Vasiliev", "Petrov", "Sokolov", "Mikhailov",
    "Novikov", "Fedorov", "Morozov", "Volkov", "Alekseev", "Lebedev", "Semenov", "Egorov",
    "Pavlov", "Kozlov", "Stepanov", "Nikolaev", "Orlov", "Andreev", "Makarov", "Nikitin",
    "Zakharov", "Smith", "Johnson", "Brown", "Miller", "Wilson",
)  # fmt: skip
USER_COLUMNS = (
    "id", "password", "is_superuser", "uuid", "email", "username", "phone", "first_name",
    "last_name", "middle_name", "is_business_user", "is_active", "is_staff", "date_joined",
    "referred_by_id", "referred_with_code_id", "referred_at", "tree_path", "tree_depth",
)  # fmt: skip
CODE_COLUMNS = ("id", "owner_id", "code", "is_active", "uses", "created_at")
BATCH_SIZE = 1_000  # bulk_create

Row = tuple[Any, ...]


@dataclass
class Forest:
    """The generated users, by index: user id = first_user_id + index, and the id of
    their code = first_code_id + index."""

    size: int
    first_user_id: int
    first_code_id: int
    start: datetime
    seed: int
    parent: array = field(default_factory=lambda: array("q"))  # index; -1 for a root
    depth: array = field(default_factory=lambda: array("q"))
    referrals: array = field(default_factory=lambda: array("q"))
    # prefix[i] is user i's subtree prefix, i.e. the tree_path of each of their referrals.
    prefix: list[str] = field(default_factory=list)
    uuids: list[uuid.UUID] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    # Lower-cased emails/usernames/phones already in the database: seeded values embed
    # the new ids, so only hand-made rows can collide, and those fields are left empty.
    taken: dict[str, set[str]] = field(default_factory=dict)

    def joined_at(self, index: int) -> datetime:
        # Sign-ups accelerate over the period (growth), strictly increasing with the id.
        return self.start + PERIOD * (((index + 1) / self.size) ** 0.7)

    def email(self, index: int) -> str | None:
        email = f"user{self.first_user_id + index}@{EMAIL_DOMAIN}"
        return None if email in self.taken.get("email", ()) else email


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

        with transaction.atomic():
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
        # Demo data, reproducible from --seed; nothing here is a secret.
        rng = random.Random(seed)  # noqa: S311
        forest = Forest(
            size=size,
            first_user_id=(User.objects.aggregate(top=Max("pk"))["top"] or 0) + 1,
            first_code_id=(ReferralCode.objects.aggregate(top=Max("pk"))["top"] or 0) + 1,
            start=timezone.now() - PERIOD - timedelta(minutes=1),
            seed=seed,
        )
        self._say(f"Generating the forest (user ids from {forest.first_user_id:,}).")
        grow_forest(
            forest,
            rng=rng,
            max_depth=settings.REFERRAL_MAX_DEPTH,
            progress=self._progress("placed", size),
        )
        forest.uuids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(size)]
        forest.codes = _unique_codes(size, rng=rng, taken=_existing_codes())
        forest.taken = _existing_contacts()
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
            for model in (User, ReferralCode):
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


def grow_forest(
    forest: Forest, *, rng: random.Random, max_depth: int, progress: Callable[[int], None]
) -> None:
    """Choose every user's referrer, in sign-up order, and derive depth and paths."""
    size = forest.size
    parent, depth, referrals, prefix = forest.parent, forest.depth, forest.referrals, forest.prefix
    parent.extend([-1] * size)
    depth.extend([0] * size)
    referrals.extend([0] * size)

    guaranteed = size >= GUARANTEE_FROM
    influencer = rng.randrange(max(1, size // 100))  # joins early and invites all along
    influenced = INFLUENCER_REFERRALS if guaranteed else size // 10
    chain_length = CHAIN_LENGTH if guaranteed else min(CHAIN_LENGTH, size // 20)
    special = rng.sample(range(influencer + 1, size), influenced + chain_length)
    by_influencer = frozenset(special[:influenced])
    chain = sorted(special[influenced:])
    chain_start = frozenset(chain[:1])
    chain_previous = dict(zip(chain[1:], chain, strict=False))

    urn = array("q")
    urn_window = max(1_000, int(URN_WINDOW_PER_USER * size))
    random_ = rng.random
    keenness_exponent = -1 / KEENNESS_ALPHA
    first_id = forest.first_user_id

    for index in range(size):
        if index in by_influencer:
            referrer = influencer
        elif index in chain_previous:
            referrer = chain_previous[index]
        elif index == 0 or (index not in chain_start and random_() < ROOT_SHARE):
            referrer = -1
        elif random_() < RECENT_SHARE:
            low = max(0, index - RECENT_WINDOW)
            referrer = low + int(random_() * (index - low))
        else:
            low = max(0, len(urn) - urn_window)
            referrer = urn[low + int(random_() * (len(urn) - low))]
        if referrer >= 0 and depth[referrer] >= max_depth:
            referrer = -1  # the services would refuse it (TreeTooDeepError)

        if referrer >= 0:
            parent[index] = referrer
            depth[index] = depth[referrer] + 1
            referrals[referrer] += 1
            if index not in by_influencer:
                urn.append(referrer)  # word of mouth: each referral makes an inviter seen
            path = prefix[referrer]
        else:
            path = "/"
        prefix.append(f"{path}{to_base36(first_id + index)}/")
        urn.extend([index] * min(KEENNESS_CAP, int(random_() ** keenness_exponent)))
        progress(index + 1)


def _tables(forest: Forest, *, password_hash: str) -> list[TableLoad]:
    """What to write, in order. Users come first although they reference codes written
    after them: the foreign keys are deferred to the commit."""
    return [
        TableLoad(
            model=User,
            columns=USER_COLUMNS,
            rows=lambda: _user_rows(forest, password_hash=password_hash),
            count=forest.size,
        ),
        TableLoad(
            model=ReferralCode,
            columns=CODE_COLUMNS,
            rows=lambda: _code_rows(forest),
            count=forest.size,
        ),
    ]


def _user_rows(forest: Forest, *, password_hash: str) -> Iterator[Row]:
    # Own generator, so the profile fields do not depend on how the tree was drawn.
    rng = random.Random(forest.seed + 1)  # noqa: S311
    random_, choice = rng.random, rng.choice
    taken_usernames = forest.taken.get("username", set())
    taken_phones = forest.taken.get("phone", set())
    for index in range(forest.size):
        user_id = forest.first_user_id + index
        first_name, last_name = choice(FIRST_NAMES), choice(LAST_NAMES)
        if first_name in FEMALE_NAMES and last_name.endswith(("ov", "ev", "in")):
            last_name += "a"
        username = None
        if random_() < USERNAME_SHARE:
            username = f"{first_name}.{last_name}{user_id}".lower()
            username = None if username in taken_usernames else username
        phone = None
        if random_() < PHONE_SHARE:
            # A bijection of the id onto 9 digits (7919 is prime to 10): unique, and it
            # does not look sequential.
            phone = f"+79{(user_id * 7919 + 13) % 10**9:09d}"
            phone = None if phone in taken_phones else phone
        joined = forest.joined_at(index)
        referrer = forest.parent[index]
        referred = referrer >= 0
        yield (
            user_id,
            password_hash,
            False,
            forest.uuids[index],
            forest.email(index),
            username,
            phone,
            first_name,
            last_name,
            "",
            random_() < BUSINESS_SHARE,
            True,
            False,
            joined,
            forest.first_user_id + referrer if referred else None,
            forest.first_code_id + referrer if referred else None,
            joined if referred else None,
            forest.prefix[referrer] if referred else "/",
            forest.depth[index],
        )


def _code_rows(forest: Forest) -> Iterator[Row]:
    for index in range(forest.size):
        yield (
            forest.first_code_id + index,
            forest.first_user_id + index,
            forest.codes[index],
            True,
            forest.referrals[index],  # code_redeem counts one use per sign-up
            forest.joined_at(index),  # issued at sign-up (REFERRAL_CODE_ON_SIGNUP)
        )


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


def _unique_codes(count: int, *, rng: random.Random, taken: set[str]) -> list[str]:
    codes: list[str] = []
    seen = set(taken)
    choices = rng.choices
    while len(codes) < count:
        code = "".join(choices(GENERATED_ALPHABET, k=CODE_LENGTH))
        if code not in seen:  # 31**8 values: about one collision per million codes
            seen.add(code)
            codes.append(code)
    return codes


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


def forest_summary(forest: Forest) -> dict[str, Any]:
    """The users the benchmarks need, with the facts that make them interesting."""
    size, parent, depth, referrals = forest.size, forest.parent, forest.depth, forest.referrals
    downline = array("q", bytes(8 * size))
    for index in range(size - 1, 0, -1):  # a referrer always has a smaller index
        if parent[index] >= 0:
            downline[parent[index]] += downline[index] + 1

    def describe(index: int) -> dict[str, Any]:
        return {
            "id": forest.first_user_id + index,
            "uuid": str(forest.uuids[index]),
            "email": forest.email(index),
            "code": forest.codes[index],
            "direct_referrals": referrals[index],
            "downline": downline[index],
            "depth": depth[index],
        }

    everyone = range(size)
    most = max(everyone, key=referrals.__getitem__)
    at_least_1000 = [index for index in everyone if referrals[index] >= 1000]
    return {
        "seed": forest.seed,
        "users": size,
        "first_user_id": forest.first_user_id,
        "last_user_id": forest.first_user_id + size - 1,
        "password": PASSWORD,
        "roots": sum(1 for index in everyone if parent[index] < 0),
        "largest_tree_root": describe(max(everyone, key=downline.__getitem__)),
        "most_referrals": describe(most),
        "about_1000_referrals": describe(
            min(at_least_1000, key=referrals.__getitem__) if at_least_1000 else most
        ),
        "deepest_leaf": describe(max(everyone, key=depth.__getitem__)),
    }
