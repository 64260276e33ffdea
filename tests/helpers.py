"""Helpers shared by the test modules: plain functions, imported where used (fixtures live
in the conftest files)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from codes.models import ReferralCode
from referral.models import TreeNode, TreePosition
from referral.selectors import referral_position
from tests.servers import ROOT
from tests.users.factories import UserFactory
from users.models import User

if TYPE_CHECKING:
    from rest_framework.response import _MonkeyPatchedResponse

    # What APIClient's requests answer: DRF's Response with the test client's json(),
    # wsgi_request and so on. The class exists only in djangorestframework-stubs.
    ApiResponse = _MonkeyPatchedResponse


def client_for(user: User) -> APIClient:
    """An API client carrying an access token of `user`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def only_error(response: ApiResponse) -> dict[str, Any]:
    """The one error of an error envelope (fails if there are none or several)."""
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    return errors[0]


def code_of(user: User) -> str:
    """The string of `user`'s active referral code (sign-up issues exactly one)."""
    return ReferralCode.objects.get(owner=user, is_active=True).code


def invite(referrer: User, **fields: object) -> User:
    """A user who signed up with `referrer`'s active code."""
    return UserFactory.create(referral_code=code_of(referrer), **fields)


def chain(length: int) -> list[User]:
    """root -> child -> grandchild ..., `length` users."""
    users = [UserFactory.create()]
    for _ in range(length - 1):
        users.append(invite(users[-1]))
    return users


def position(user: User) -> TreePosition:
    """Where `user` is in the forest now, as the database has it."""
    return referral_position(user_id=user.pk)


def assert_tree_consistent() -> None:
    """Every stored path and depth is what the referred_by chain implies, and exactly
    the users with a referrer have a node."""
    users = {u.pk: u for u in User.objects.all()}
    nodes = {node.user_id: node for node in TreeNode.objects.all()}
    assert set(nodes) == {pk for pk, user in users.items() if user.referred_by_id is not None}
    for user in users.values():
        ancestors = []
        above = user
        while above.referred_by_id is not None:
            above = users[above.referred_by_id]
            ancestors.append(above.pk)
        stored = TreePosition.of(user.pk, nodes.get(user.pk))
        assert stored.ancestor_ids == list(reversed(ancestors)), user
        assert stored.depth == len(ancestors)


def queued_uuids() -> list[str]:
    """The change queue's user UUIDs, oldest first, after firing the deferred triggers of
    the current (test) transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    from sync.models import UserChange

    return [
        str(u)
        for u in UserChange.objects.order_by("queued_at", "id").values_list("user_uuid", flat=True)
    ]


def run_in_parallel(functions: list[Callable[..., Any]]) -> list[Any]:
    """Run callables in threads released together by a barrier, each on its own database
    connection; returns each one's result or the exception it raised.

    Each is called without arguments; `...` lets through the `lambda n=n: ...` idiom,
    whose default argument mypy cannot match against `Callable[[], Any]`."""
    barrier = threading.Barrier(len(functions))
    results: list[Any] = [None] * len(functions)

    def worker(index: int, function: Callable[..., Any]) -> None:
        barrier.wait()
        try:
            results[index] = function()
        except Exception as exc:  # collected for the test to assert on
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return results


def wait_for_a_blocked_lock(*, watch: threading.Thread) -> bool:
    """True once Postgres shows a lock request waiting; False if `watch` finished first.
    Bounded: it polls pg_locks at most 2,000 times."""
    for _ in range(2000):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return True
        if not watch.is_alive():
            return False
    return False


def documented_errors(schema: dict, path: str, method: str, status: str) -> set[tuple]:
    """(attr, code) pairs the schema allows in the errors of one response."""

    def resolve(node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        return node

    pairs: set[tuple] = set()
    seen: set[int] = set()

    def walk(node: Any) -> None:
        node = resolve(node)
        if isinstance(node, list):
            for item in node:
                walk(item)
        if not isinstance(node, dict) or id(node) in seen:
            return
        seen.add(id(node))
        properties = node.get("properties", {})
        if "attr" in properties and "code" in properties:
            attrs = resolve(properties["attr"]).get("enum", [])
            codes = resolve(properties["code"]).get("enum", [])
            pairs.update((attr, code) for attr in attrs for code in codes)
        for value in node.values():
            walk(value)

    operation = schema["paths"][path][method]["responses"][status]
    walk(operation["content"]["application/json"]["schema"])
    return pairs


# A secret key long enough for check --deploy, for settings read in a fresh interpreter.
LONG_KEY = "k" * 50


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter with `env` on top of an environment cleared of
    every setting, and of the developer's .env: the defaults are what is tested."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "APP_ENV", "DATABASE_URL", "REDIS_URL", "SMS_"))
    }
    environment.update({"DJANGO_ENV_FILE": os.devnull, **env})
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
