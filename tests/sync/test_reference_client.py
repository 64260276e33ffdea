"""The reference client of docs/tree-service.md, run as written against a live server."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from codes.models import ReferralCode
from referral.services import referrer_set
from sync.services import api_key_create
from tests.sync.helpers import reference_client, server_tree, sync_while
from tests.users.factories import UserFactory
from users.services.accounts import user_create, user_deactivate

# Postgres: SQLite's in-memory test database locks whole tables across threads
# ("database table is locked"), whatever the busy timeout.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


def test_the_reference_client_rebuilds_the_tree_while_writes_go_on(live_server: Any) -> None:
    sync_tree = reference_client()
    _key, raw_key = api_key_create(name="reference-client")
    roots = [UserFactory.create() for _ in range(3)]

    def writer() -> None:
        people = list(roots)
        for step in range(30):
            code = ReferralCode.objects.get(owner=people[step % len(people)], is_active=True).code
            if step % 5 == 4:
                loner = user_create(
                    email=f"late{step}@example.com", password="x", now=timezone.now()
                )
                referrer_set(user=loner, code_value=code, now=timezone.now())
                people.append(loner)
            else:
                people.append(
                    user_create(
                        email=f"w{step}@example.com",
                        password="x",
                        referral_code=code,
                        now=timezone.now(),
                    )
                )
            if step == 20:
                user_deactivate(user=people[1])
        connection.close()

    tree = sync_while(writer, sync_tree, live_server.url, raw_key)

    assert len(tree) == 33
    assert tree == server_tree()
