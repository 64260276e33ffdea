from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from pytest_django import Settings
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey
from rest_framework_simplejwt.tokens import RefreshToken

from sync.services import api_key_create
from tests.helpers import invite, queued_uuids
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db


def page_through(client: APIClient, limit: int) -> list[str]:
    """Every UUID of the queue, following `next` cursors (bounded: at most 50 pages)."""
    seen: list[str] = []
    params: dict[str, int | str] = {"limit": limit}
    for _ in range(50):
        body = client.get("/api/user-sync/", params).json()
        seen += body["results"]
        if body["next"] is None:
            return seen
        params = {"limit": limit, "cursor": body["next"]}
    raise AssertionError("paging did not end")


def queries_outside_the_cache(captured: CaptureQueriesContext) -> list[dict[str, str]]:
    """The queries of `captured` but those of the database cache (the embedded default's
    cache for the API keys and the throttles, with the savepoints of its atomic writes;
    none on Redis)."""
    cache = settings.CACHES["default"]
    if "DatabaseCache" not in cache["BACKEND"]:
        return list(captured.captured_queries)
    return [
        q
        for q in captured.captured_queries
        if cache["LOCATION"] not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]


def sync_results(client: APIClient, **params: int | str) -> list[str]:
    queued_uuids()  # fire pending triggers of this test's transaction
    response = client.get("/api/user-sync/", params)
    assert response.status_code == 200
    return json.loads(response.getvalue())["results"]  # the streamed content, joined


class TestApiKeyAuthentication:
    PATHS = ("/api/user-sync/", "/api/users/batch/?uuids=6f1c1c53-7d4a-4c9b-9f43-1b0f1f2f3a4b")

    @pytest.mark.parametrize("path", PATHS)
    def test_missing_key_is_401(self, api_client: APIClient, path: str) -> None:
        response = api_client.get(path)

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "X-API-Key"
        assert response.json()["errors"][0]["code"] == "not_authenticated"

    @pytest.mark.parametrize("path", PATHS)
    def test_unknown_key_is_401(self, api_client: APIClient, path: str) -> None:
        api_client.credentials(HTTP_X_API_KEY="abcdefgh.not-a-real-key")

        assert api_client.get(path).status_code == 401

    def test_expired_key_is_401(self, api_client: APIClient, expired_key: str) -> None:
        api_client.credentials(HTTP_X_API_KEY=expired_key)

        assert api_client.get("/api/user-sync/").status_code == 401

    def test_revoked_key_stops_working_at_once_even_when_cached(
        self, key_client: APIClient, api_key: tuple[APIKey, str]
    ) -> None:
        assert key_client.get("/api/user-sync/").status_code == 200  # now cached

        api_key[0].revoked = True
        api_key[0].save()

        assert key_client.get("/api/user-sync/").status_code == 401

    def test_a_bearer_token_alone_is_401(self, api_client: APIClient) -> None:
        user = UserFactory.create(is_staff=True)
        api_client.credentials(
            HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}"
        )

        assert api_client.get(f"/api/users/{user.uuid}/").status_code == 401

    def test_verification_is_cached(self, key_client: APIClient) -> None:
        key_client.get("/api/users/batch/?uuids=6f1c1c53-7d4a-4c9b-9f43-1b0f1f2f3a4b")

        with CaptureQueriesContext(connection) as captured:
            key_client.get("/api/users/batch/?uuids=6f1c1c53-7d4a-4c9b-9f43-1b0f1f2f3a4b")

        # The batch query only: the key comes from the cache (a table on the embedded default).
        assert len(queries_outside_the_cache(captured)) == 1
        assert not any("rest_framework_api_key" in q["sql"] for q in captured.captured_queries)

    def test_throttled_per_key(self, key_client: APIClient, settings: Settings) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                "sync": "2/min",
            },
        }
        other = APIClient()
        other.credentials(HTTP_X_API_KEY=api_key_create(name="another-poller")[1])
        key_client.get("/api/user-sync/")
        key_client.get("/api/user-sync/")

        throttled = key_client.get("/api/user-sync/")

        assert throttled.status_code == 429
        assert "Retry-After" in throttled
        assert other.get("/api/user-sync/").status_code == 200


class TestUserSync:
    def test_lists_each_changed_user_once_by_latest_change(self, key_client: APIClient) -> None:
        first, second = UserFactory.create(), UserFactory.create()
        queued_uuids()
        from sync.models import UserChange

        # Sign-ups in the past, so that the change below is later even on a clock that
        # ticks in milliseconds.
        UserChange.objects.filter(user_uuid=second.uuid).update(
            queued_at=datetime(2020, 1, 2, tzinfo=UTC)
        )
        UserChange.objects.filter(user_uuid=first.uuid).update(
            queued_at=datetime(2020, 1, 1, tzinfo=UTC)
        )
        User.objects.filter(pk=first.pk).update(first_name="Changed")

        assert sync_results(key_client) == [str(second.uuid), str(first.uuid)]

    def test_since_filters_by_queue_time(self, key_client: APIClient) -> None:
        old = UserFactory.create()
        queued_uuids()
        from sync.models import UserChange

        UserChange.objects.update(queued_at=datetime(2020, 1, 1, tzinfo=UTC))
        new = UserFactory.create()
        since = int(datetime(2021, 1, 1, tzinfo=UTC).timestamp())

        assert sync_results(key_client, since=since) == [str(new.uuid)]
        assert sync_results(key_client) == [str(old.uuid), str(new.uuid)]

    @pytest.mark.parametrize("since", ["abc", "1.5", "-1", "99999999999999"])
    def test_since_must_be_an_integer(self, key_client: APIClient, since: str) -> None:
        response = key_client.get("/api/user-sync/", {"since": since})

        assert response.status_code == 400
        assert response.json()["errors"][0]["attr"] == "since"

    def test_the_answer_is_streamed(self, key_client: APIClient) -> None:
        UserFactory.create()

        response = key_client.get("/api/user-sync/")

        assert isinstance(response, StreamingHttpResponse)
        assert response["Content-Type"] == "application/json"

    def test_paging_with_limit_and_cursor(self, key_client: APIClient) -> None:
        users = [UserFactory.create() for _ in range(5)]
        streamed = sync_results(key_client)

        # The unpaged answer's order: users changed in the same instant (a tie on SQLite's
        # millisecond clock) are ordered by UUID, not by creation.
        assert page_through(key_client, limit=2) == streamed
        assert sorted(streamed) == sorted(str(u.uuid) for u in users)

    def test_a_cursor_needs_a_limit(self, key_client: APIClient) -> None:
        UserFactory.create_batch(2)
        queued_uuids()  # fires the queue's deferred triggers
        first = key_client.get("/api/user-sync/", {"limit": 1}).json()

        response = key_client.get("/api/user-sync/", {"cursor": first["next"]})

        assert response.status_code == 400
        assert response.json()["errors"] == [
            {
                "code": "required",
                "detail": "A cursor continues a paged list: give limit with it.",
                "attr": "limit",
            }
        ]

    @pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 10001}, {"limit": "x"}])
    def test_limit_is_1_to_10000(self, key_client: APIClient, params: dict) -> None:
        assert key_client.get("/api/user-sync/", params).json()["errors"][0]["attr"] == "limit"

    def test_a_cursor_the_server_did_not_issue_is_400(self, key_client: APIClient) -> None:
        query: dict[str, int | str] = {"limit": 1, "cursor": "forged"}
        response = key_client.get("/api/user-sync/", query)

        assert response.status_code == 400
        assert response.json()["errors"][0]["attr"] == "cursor"

    def test_a_cursor_is_bound_to_its_since(self, key_client: APIClient) -> None:
        UserFactory.create(), UserFactory.create()
        queued_uuids()
        cursor = key_client.get("/api/user-sync/", {"limit": 1}).json()["next"]

        response = key_client.get("/api/user-sync/", {"limit": 1, "cursor": cursor, "since": 5})

        assert response.status_code == 400

    def test_paging_keeps_users_whose_changes_share_one_stamp(self, key_client: APIClient) -> None:
        users = [UserFactory.create() for _ in range(6)]
        queued_uuids()
        # One statement: on SQLite every trigger-written stamp of it is the same instant.
        User.objects.filter(pk__in=[u.pk for u in users]).update(is_business_user=True)

        assert sorted(page_through(key_client, limit=1)) == sorted(str(u.uuid) for u in users)

    def test_the_streamed_export_is_valid_json_across_write_batches(
        self, key_client: APIClient
    ) -> None:
        from sync import views

        users = [UserFactory.create() for _ in range(5)]
        queued_uuids()
        batch_size, views._STREAM_BATCH = views._STREAM_BATCH, 2
        try:
            response = key_client.get("/api/user-sync/")
            chunks = list(response)  # a StreamingHttpResponse iterates its streaming_content
        finally:
            views._STREAM_BATCH = batch_size

        assert len(chunks) == 5  # opening, three batches of at most two, closing
        # Each user once; the order is tested elsewhere (ties on SQLite's millisecond clock
        # are ordered by UUID, not by creation).
        streamed = json.loads(b"".join(chunks))["results"]
        assert sorted(streamed) == sorted(str(u.uuid) for u in users)
        assert len(streamed) == len(users)


class TestUserDetail:
    def test_has_exactly_the_seed_fields(self, key_client: APIClient) -> None:
        referrer = UserFactory.create()
        user = invite(
            referrer,
            first_name="Иван",
            last_name="Петров",
            phone="+79990001122",
            is_business_user=True,
        )

        body = key_client.get(f"/api/users/{user.uuid}/").json()

        assert body == {
            "uuid": str(user.uuid),
            "referred_by_uuid": str(referrer.uuid),
            "email": user.email,
            "first_name": "Иван",
            "last_name": "Петров",
            "phone": "+79990001122",
            "is_business_user": True,
            "is_active": True,
            "date_joined": user.date_joined.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        }
        # JSON true, not 1 (which Python also finds equal to True).
        assert body["is_business_user"] is True and body["is_active"] is True

    def test_a_root_shows_what_it_lacks_as_empty(self, key_client: APIClient) -> None:
        phone_only = UserFactory.create(email=None, phone="+79990001122")
        email_only = UserFactory.create(phone=None)

        phone_only_body = key_client.get(f"/api/users/{phone_only.uuid}/").json()
        email_only_body = key_client.get(f"/api/users/{email_only.uuid}/").json()

        assert (phone_only_body["referred_by_uuid"], phone_only_body["email"]) == (None, "")
        assert email_only_body["phone"] == ""

    def test_unknown_user_is_404(self, key_client: APIClient) -> None:
        response = key_client.get(f"/api/users/{uuid.uuid4()}/")

        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "not_found"


class TestUserBatch:
    def test_in_the_order_asked_each_once_missing_left_out(self, key_client: APIClient) -> None:
        first, second = UserFactory.create(), UserFactory.create()
        asked = [str(second.uuid).upper(), str(uuid.uuid4()), str(first.uuid), str(second.uuid)]

        body = key_client.get("/api/users/batch/", {"uuids": ",".join(asked)}).json()

        assert [row["uuid"] for row in body["results"]] == [str(second.uuid), str(first.uuid)]

    def test_rows_are_what_the_detail_answers(self, key_client: APIClient) -> None:
        referrer = UserFactory.create()
        invited = invite(referrer, phone="+79990001122", is_business_user=True)
        User.objects.filter(pk=invited.pk).update(is_active=False)
        root = UserFactory.create(email=None, phone="+79990003344")
        asked = [invited.uuid, root.uuid, referrer.uuid]

        body = key_client.get("/api/users/batch/", {"uuids": ",".join(map(str, asked))}).json()

        details = [key_client.get(f"/api/users/{uuid}/").json() for uuid in asked]
        assert body["results"] == details
        assert [(row["is_business_user"], row["is_active"]) for row in details] == [
            (True, False),
            (False, True),
            (False, True),
        ]
        assert all(
            type(row[flag]) is bool for row in details for flag in ("is_active", "is_business_user")
        )
        assert (details[0]["referred_by_uuid"], details[1]["email"]) == (str(referrer.uuid), "")

    def test_one_query_however_many_are_asked(self, key_client: APIClient) -> None:
        users = [UserFactory.create() for _ in range(30)]
        uuids = ",".join(str(u.uuid) for u in users)
        key_client.get("/api/users/batch/", {"uuids": uuids})

        with CaptureQueriesContext(connection) as captured:
            response = key_client.get("/api/users/batch/", {"uuids": uuids})

        assert len(response.json()["results"]) == 30
        outside_the_cache = queries_outside_the_cache(captured)
        assert len(outside_the_cache) == 1
        assert "users_user" in outside_the_cache[0]["sql"]

    @pytest.mark.parametrize(
        "query",
        [
            {},
            {"uuids": ""},
            {"uuids": "not-a-uuid"},
            {"uuids": ",".join(str(uuid.uuid4()) for _ in range(101))},
        ],
    )
    def test_bad_uuids_are_400(self, key_client: APIClient, query: dict) -> None:
        response = key_client.get("/api/users/batch/", query)

        assert response.status_code == 400
        assert response.json()["errors"][0]["attr"] == "uuids"

    def test_exactly_100_is_allowed(self, key_client: APIClient) -> None:
        query = {"uuids": ",".join(str(uuid.uuid4()) for _ in range(100))}

        assert key_client.get("/api/users/batch/", query).json() == {"results": []}
