"""Referral reads cost a fixed number of queries however wide or deep the tree is."""

from __future__ import annotations

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries

from common.cache import AtomicDatabaseCache
from tests.helpers import chain, client_for, invite
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db

# Authentication loads the user (1); the view's own reads come after, the tree's reads
# starting with the user's place in the tree (their node). On the embedded default the
# throttle's cache lives in the database too and adds its own, fixed, queries.
ENDPOINTS = {
    "/api/users/me/": 2,
    "/api/referrals/": 2,  # the page and its count are one statement
    "/api/referrals/tree/?depth=10": 4,  # the node, the page and the paginator's count
    "/api/referrals/stats/": 3,
    "/api/referrals/upline/": 3,
}


def first_throttled_request_statements() -> int:
    """The statements the user throttle's cache work costs the first request of a window.
    On the embedded default's database cache: the counter's `incr` misses (savepoint,
    SELECT ... FOR UPDATE, rollback to and release of the savepoint), `add` creates it
    (the cull check's COUNT, savepoint, SELECT, INSERT, release), and the previous
    window's counter is read (SELECT): 10. On Redis: none, no query at all."""
    return 10 if isinstance(caches["default"], AtomicDatabaseCache) else 0


def queries_for(user: User, path: str) -> int:
    client = client_for(user)
    client.get(path)  # warm: first-request work (content types, throttle rows) is not the view's
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(
        [
            q
            for q in captured.captured_queries
            if "django_cache" not in q["sql"] and "SAVEPOINT" not in q["sql"]
        ]
    )


@pytest.mark.parametrize(("path", "expected"), ENDPOINTS.items())
def test_query_count_does_not_grow_with_width_or_depth(path: str, expected: int) -> None:
    small_root = UserFactory.create()
    invite(small_root)

    big = chain(12)
    for node in big[:4]:
        for _ in range(3):
            invite(node)
    # Deep in the chain but with a downline of its own: an empty page costs one query
    # less (Django skips LIMIT 0), which would hide nothing but blur the comparison.
    deep_node = big[-3]

    if path.endswith("upline/"):
        # An upline is about ancestors: compare a shallow user with deep ones (a root's
        # empty upline needs no query at all).
        subjects = [small_root.referrals.get(), big[4], big[-1]]
    else:
        subjects = [small_root, big[0], deep_node]

    small, wide, deep = (queries_for(subject, path) for subject in subjects)

    assert small == wide == deep == expected


def test_the_tree_is_pinned_exactly_with_pytest_django(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    root = chain(8)[0]
    client = client_for(root)
    client.get("/api/referrals/tree/")
    # The measured request is the first of its throttle window, whichever minute it falls
    # in: a request after another in the same minute costs 5 cache statements, the first
    # one of a minute 10, and which of the two a run measured would depend on the clock.
    cache.clear()

    with django_assert_num_queries(
        ENDPOINTS["/api/referrals/tree/?depth=10"] + first_throttled_request_statements()
    ):
        client.get("/api/referrals/tree/?depth=10")
