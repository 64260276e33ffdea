"""The password-reset email through the task queue: our templates (text and HTML, in the
request's language), no secret in the queue, and a refused insert told to nobody."""

from __future__ import annotations

import email.message
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult
from djoser.utils import encode_uid
from rest_framework.test import APIClient

from tests.queue import run_tasks, task_inserts_refused
from tests.servers import FakeSmtpService
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db

URL = "/api/users/reset_password/"


@pytest.fixture
def anna() -> User:
    return UserFactory.create(email="anna@example.com")


def bodies(message: email.message.EmailMessage) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_content()
        for part in message.walk()
        if part.get_content_type() in ("text/plain", "text/html")
    }


class TestPasswordResetEmail:
    @pytest.mark.parametrize(
        ("language", "subject", "words"),
        [
            ("en", "Password reset on app.example.com", "Open this link to choose a new password"),
            ("ru", "Сброс пароля на app.example.com", "ссылка действует один раз"),
        ],
    )
    def test_has_the_link_in_both_bodies_in_the_request_language(
        self,
        api_client: APIClient,
        anna: User,
        fake_smtp: FakeSmtpService,
        settings: Any,
        language: str,
        subject: str,
        words: str,
    ) -> None:
        settings.DJOSER = {
            **settings.DJOSER,
            "EMAIL_FRONTEND_PROTOCOL": "https",
            "EMAIL_FRONTEND_DOMAIN": "app.example.com",
        }
        api_client.post(URL, {"email": "anna@example.com"}, HTTP_ACCEPT_LANGUAGE=language)

        run_tasks()

        [received] = fake_smtp.messages
        assert received["to"] == ["anna@example.com"]
        [message] = fake_smtp.emails()
        assert message["Subject"].strip() == subject
        link = f"https://app.example.com/password/reset/confirm/{encode_uid(str(anna.uuid))}/"
        text, html = bodies(message)["text/plain"], bodies(message)["text/html"]
        assert link in text and f'<a href="{link}' in html
        assert words.lower() in (text + html).lower()

    def test_the_queue_holds_neither_address_nor_token(
        self, api_client: APIClient, anna: User
    ) -> None:
        api_client.post(URL, {"email": "anna@example.com"})

        [task] = DBTaskResult.objects.all()
        assert task.args_kwargs["kwargs"]["user_uuid"] == str(anna.uuid)
        assert set(task.args_kwargs["kwargs"]) == {
            "user_uuid",
            "protocol",
            "domain",
            "language",
            "queued_at",
            "attempt",
            "request_id",  # the request's own id, for the worker's log lines
        }

    def test_a_refused_insert_answers_204_and_only_the_log_knows(
        self, api_client: APIClient, anna: User, caplog: pytest.LogCaptureFixture
    ) -> None:
        with task_inserts_refused():
            response = api_client.post(URL, {"email": "anna@example.com"})

        assert response.status_code == 204
        [line] = [r for r in caplog.records if r.getMessage() == "Email not queued"]
        assert line.user_uuid == str(anna.uuid)  # type: ignore[attr-defined]
        assert "anna@example.com" not in caplog.text
        assert not DBTaskResult.objects.exists()


class TestNoEnumeration:
    """The answer and the work behind it are the same for an address with an account and
    one without: both queue a task, and the worker skips the one for nobody."""

    def test_an_unknown_address_queues_a_task_that_sends_nothing(
        self, api_client: APIClient, fake_smtp: FakeSmtpService
    ) -> None:
        response = api_client.post(URL, {"email": "nobody@example.com"})

        assert response.status_code == 204
        [task] = DBTaskResult.objects.all()
        assert task.args_kwargs["kwargs"]["user_uuid"] == ""
        assert "nobody@example.com" not in str(task.args_kwargs)
        run_tasks()
        assert fake_smtp.messages == []
        assert DBTaskResult.objects.get().return_value == "skipped"

    def test_known_and_unknown_addresses_run_the_same_statements(
        self, api_client: APIClient, anna: User
    ) -> None:
        def statements(address: str) -> list[str]:
            with CaptureQueriesContext(connection) as queries:
                api_client.post(URL, {"email": address})
            return [query["sql"].split()[0] for query in queries.captured_queries]

        statements("someone@example.com")  # the throttle's counters exist from here on
        known, unknown = statements("anna@example.com"), statements("nobody@example.com")

        assert known == unknown
        assert "INSERT" in known
