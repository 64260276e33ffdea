"""A demo referral forest, generated in memory: who refers whom, and every row the
services would have written for the same sign-ups. No database here: the `seed_demo`
command reads what is taken already, passes it in, and writes the rows.

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
"""

from __future__ import annotations

import random
import uuid
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from codes.models import GENERATED_ALPHABET
from referral.models import to_base36

PASSWORD = "demo-password"
EMAIL_DOMAIN = "demo.example"
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
    "referred_by_id", "referred_with_code_id", "referred_at", "signup_channel",
)  # fmt: skip
TREE_COLUMNS = ("user_id", "path", "depth", "date_joined")
CODE_COLUMNS = ("id", "owner_id", "code", "is_active", "uses", "clicks", "created_at")

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
    # prefix[i] is user i's subtree prefix, i.e. the tree path of each of their referrals.
    prefix: list[str] = field(default_factory=list)
    uuids: list[uuid.UUID] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    # Lower-cased emails/usernames/phones already in the database: seeded values embed
    # the new ids, so only hand-made rows can collide. A colliding username or phone is
    # left empty; a colliding email gets another.
    taken: dict[str, set[str]] = field(default_factory=dict)

    def joined_at(self, index: int) -> datetime:
        # Sign-ups accelerate over the period (growth), strictly increasing with the id.
        return self.start + PERIOD * (((index + 1) / self.size) ** 0.7)

    def email(self, index: int) -> str:
        email = f"user{self.first_user_id + index}@{EMAIL_DOMAIN}"
        if email in self.taken.get("email", ()):
            # Every account keeps an email or a phone, and not every seeded one has a phone.
            email = f"user{self.first_user_id + index}.seed{self.seed}@{EMAIL_DOMAIN}"
        return email


def generate_forest(
    *,
    size: int,
    seed: int,
    first_user_id: int,
    first_code_id: int,
    start: datetime,
    max_depth: int,
    code_length: int,
    taken_codes: set[str],
    taken_contacts: dict[str, set[str]],
    progress: Callable[[int], None] = lambda done: None,
) -> Forest:
    """`size` users from `first_user_id` on, joining over PERIOD from `start`, each with
    one code from `first_code_id` on; the same `seed` gives the same forest. Codes and
    contacts in `taken_*` (lower-cased) are not handed out again."""
    # Demo data, reproducible from the seed; nothing here is a secret.
    rng = random.Random(seed)  # noqa: S311
    forest = Forest(
        size=size, first_user_id=first_user_id, first_code_id=first_code_id, start=start, seed=seed
    )
    grow_forest(forest, rng=rng, max_depth=max_depth, progress=progress)
    forest.uuids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(size)]
    forest.codes = _unique_codes(size, rng=rng, length=code_length, taken=taken_codes)
    forest.taken = taken_contacts
    return forest


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


def user_rows(forest: Forest, *, password_hash: str) -> Iterator[Row]:
    """The user rows, in USER_COLUMNS order, all with the password hashed as
    `password_hash`."""
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
            "email",  # every seeded user signs up by email (a phone beside it or not)
        )


def tree_node_rows(forest: Forest) -> Iterator[Row]:
    """The referral.TreeNode rows, in TREE_COLUMNS order: one per user with a referrer."""
    parent, depth, prefix = forest.parent, forest.depth, forest.prefix
    for index in range(forest.size):
        if parent[index] >= 0:
            yield (
                forest.first_user_id + index,
                prefix[parent[index]],
                depth[index],
                forest.joined_at(index),
            )


def code_rows(forest: Forest) -> Iterator[Row]:
    """The referral code rows, in CODE_COLUMNS order: one active code per user, its
    `uses` the referrals made with it (code_redeem counts one per sign-up)."""
    for index in range(forest.size):
        yield (
            forest.first_code_id + index,
            forest.first_user_id + index,
            forest.codes[index],
            True,
            forest.referrals[index],
            0,  # share-link clicks: the demo has none
            forest.joined_at(index),  # issued at sign-up (REFERRAL_CODE_ON_SIGNUP)
        )


def _unique_codes(count: int, *, rng: random.Random, length: int, taken: set[str]) -> list[str]:
    codes: list[str] = []
    seen = set(taken)
    choices = rng.choices
    while len(codes) < count:
        code = "".join(choices(GENERATED_ALPHABET, k=length))
        if code not in seen:  # 31**8 values: about one collision per million codes
            seen.add(code)
            codes.append(code)
    return codes


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
