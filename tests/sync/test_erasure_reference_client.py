"""The tree service's reference client (docs/tree-service.md) against erasures: it drops
the erased users and re-hangs their referrals, also while erasures and sign-ups go on."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from sync.services import api_key_create
from tests.helpers import code_of, invite
from tests.sync.helpers import reference_client, server_tree, sync_while
from tests.users.factories import UserFactory
from users.models import User
from users.services.accounts import user_create
from users.services.lifecycle import user_erase

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


def deep_tree() -> list[User]:
    """A chain of 6 under a root, each with a second referral: 13 users."""
    chain = [UserFactory.create()]
    for _ in range(6):
        invite(chain[-1])
        chain.append(invite(chain[-1]))
    return chain


def test_after_an_erasure_in_the_middle_the_client_has_exactly_the_new_tree(
    live_server: Any,
) -> None:
    sync_tree = reference_client()
    _key, raw_key = api_key_create(name="reference-client")
    chain = deep_tree()
    tree: dict[str, str | None] = {}
    since = sync_tree(live_server.url, raw_key, tree)
    assert tree == server_tree()

    user_erase(user=chain[3], now=timezone.now())
    sync_tree(live_server.url, raw_key, tree, since)

    assert str(chain[3].uuid) not in tree
    assert tree[str(chain[4].uuid)] == str(chain[2].uuid)
    assert tree == server_tree()


def test_the_client_follows_erasures_of_roots_middles_and_leaves_while_writes_go_on(
    live_server: Any,
) -> None:
    sync_tree = reference_client()
    _key, raw_key = api_key_create(name="reference-client")
    chain = deep_tree()
    leaf = invite(chain[-1])

    def writer() -> None:
        victims = [chain[2], chain[0], leaf, chain[5]]
        inviters = [chain[1], chain[3], chain[4], chain[6]]
        for step in range(12):
            code = code_of(inviters[step % len(inviters)])
            user_create(
                email=f"w{step}@example.com", password="x", referral_code=code, now=timezone.now()
            )
            if step % 3 == 2:
                user_erase(user=victims.pop(0), now=timezone.now())
        connection.close()

    tree = sync_while(writer, sync_tree, live_server.url, raw_key)

    assert len(tree) == 14 + 12 - 4
    assert tree == server_tree()
