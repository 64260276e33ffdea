"""POST /api/codes/send-email/: the email of my active code, queued in the request's
transaction and delivered by the task worker to a real SMTP server."""

from __future__ import annotations

import email.message
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from django_guid import get_guid
from django_guid.log_filters import CorrelationId
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from codes.services import code_email_send
from tests.codes.factories import ReferralCodeFactory
from tests.helpers import client_for
from tests.queue import deferred_tasks_due, run_tasks, task_inserts_refused
from tests.servers import FakeSmtpService
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db

URL = "/api/codes/send-email/"


def errors(response: Any) -> list[tuple[str, str | None]]:
    return [(error["code"], error["attr"]) for error in response.json()["errors"]]


def bodies(message: email.message.EmailMessage) -> dict[str, str]:
    """The message's text and HTML bodies by content type."""
    return {
        part.get_content_type(): part.get_content()
        for part in message.walk()
        if part.get_content_type() in ("text/plain", "text/html")
    }


@pytest.fixture
def owner() -> User:
    return UserFactory.create(email="anna@example.com")


@pytest.fixture
def expiring_code(owner: User) -> str:
    expires_at = datetime(2031, 2, 4, 8, 51, tzinfo=UTC)
    return ReferralCodeFactory.create(owner=owner, code="WINTER26", expires_at=expires_at).code


@pytest.fixture
def logs_with_request_ids(
    fake_smtp: FakeSmtpService, settings: Any, caplog: pytest.LogCaptureFixture
) -> pytest.LogCaptureFixture:
    """Delivery to the fake SMTP server, and the log records with the `request_id` that
    the JSON lines get from common.logging's filter."""
    settings.EMAIL_PORT = fake_smtp.port
    caplog.handler.addFilter(CorrelationId(correlation_id_field="request_id"))
    return caplog


class TestSendEmailRequestId:
    def test_every_attempts_log_lines_carry_the_request_id_that_queued_it(
        self,
        owner: User,
        expiring_code: str,
        fake_smtp: FakeSmtpService,
        logs_with_request_ids: pytest.LogCaptureFixture,
    ) -> None:
        response = client_for(owner).post(URL, HTTP_X_REQUEST_ID="d3a9" * 8)
        assert response.status_code == 202

        fake_smtp.failure = "refuse"
        run_tasks()
        fake_smtp.failure = None
        deferred_tasks_due(now=timezone.now())
        run_tasks()

        lines = [r for r in logs_with_request_ids.records if r.getMessage().startswith("Email ")]
        assert [(r.getMessage(), r.request_id) for r in lines] == [  # type: ignore[attr-defined]
            ("Email not sent yet", "d3a9" * 8),
            ("Email sent", "d3a9" * 8),
        ]
        assert get_guid() is None  # the worker's own lines are nobody's request

    def test_a_task_queued_outside_a_request_logs_no_request_id(
        self, owner: User, expiring_code: str, logs_with_request_ids: pytest.LogCaptureFixture
    ) -> None:
        code_email_send(owner=owner, language="en", now=timezone.now())

        run_tasks()

        [line] = [r for r in logs_with_request_ids.records if r.getMessage() == "Email sent"]
        assert line.request_id is None  # type: ignore[attr-defined]


class TestSendEmail:
    def test_queues_the_email_and_answers_202(self, owner: User, expiring_code: str) -> None:
        response = client_for(owner).post(URL)

        assert response.status_code == 202
        assert response.json() == {"detail": "The email with your code is on its way."}
        [task] = DBTaskResult.objects.all()
        assert task.task_path == "codes.tasks.code_email_deliver"
        # The queue keeps no address: the worker looks it up when it sends.
        assert "anna@example.com" not in str(task.args_kwargs)

    def test_the_worker_delivers_code_link_and_expiry_in_both_bodies(
        self, owner: User, expiring_code: str, fake_smtp: FakeSmtpService, settings: Any
    ) -> None:
        settings.DEFAULT_FROM_EMAIL = "referrals@shop.example"
        settings.SHARE_URL_TEMPLATE = "https://shop.example/r/{code}/"
        client_for(owner).post(URL)

        run_tasks()

        [received] = fake_smtp.messages
        assert (received["from"], received["to"]) == ("referrals@shop.example", [owner.email])
        [message] = fake_smtp.emails()
        assert message["Subject"] == "Your referral code WINTER26"
        text, html = bodies(message)["text/plain"], bodies(message)["text/html"]
        for body in (text, html):
            assert "WINTER26" in body
            assert "https://shop.example/r/WINTER26/" in body
            assert "Feb. 4, 2031" in body
        assert '<a href="https://shop.example/r/WINTER26/">' in html

    def test_is_written_in_the_language_of_the_request(
        self, owner: User, expiring_code: str, fake_smtp: FakeSmtpService
    ) -> None:
        client_for(owner).post(URL, HTTP_ACCEPT_LANGUAGE="ru")

        run_tasks()

        [message] = fake_smtp.emails()
        # Python folds an encoded subject onto a continuation line; readers drop the space.
        assert message["Subject"].strip() == "Ваш реферальный код WINTER26"
        for body in bodies(message).values():
            assert "Поделитесь этой ссылкой" in body
            assert "4 февраля 2031" in body

    def test_says_a_code_without_expiry_does_not_expire(self, owner: User) -> None:
        client_for(owner).post(URL)  # the code every new user gets never expires

        run_tasks()

        [message] = mail.outbox
        assert "The code does not expire." in str(message.body)

    def test_400_no_active_code(self, owner: User) -> None:
        owner.referral_codes.update(is_active=False)

        response = client_for(owner).post(URL)

        assert response.status_code == 400
        assert errors(response) == [("no_active_code", None)]
        assert not DBTaskResult.objects.exists()

    def test_400_no_email_for_a_phone_only_user(self) -> None:
        phone_only = UserFactory.create(email=None, phone="+79990001122")

        response = client_for(phone_only).post(URL)

        assert response.status_code == 400
        assert errors(response) == [("no_email", None)]
        assert not DBTaskResult.objects.exists()

    def test_401_without_credentials(self, api_client: APIClient) -> None:
        response = api_client.post(URL)

        assert response.status_code == 401

    def test_429_after_the_per_user_rate(self, owner: User, settings: Any) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                "send_email": "2/hour",
            },
        }
        other = UserFactory.create()

        answers = [client_for(owner).post(URL).status_code for _ in range(3)]
        throttled = client_for(owner).post(URL)
        others = client_for(other).post(URL)

        assert answers == [202, 202, 429]
        assert int(throttled["Retry-After"]) > 0
        assert others.status_code == 202  # same address, another user: not counted
        assert DBTaskResult.objects.count() == 3

    def test_503_email_unavailable_when_it_cannot_be_queued(self, owner: User) -> None:
        client = client_for(owner)
        client.raise_request_exception = False  # a 5xx is reported (and logged) as such

        with task_inserts_refused():
            response = client.post(URL)

        assert response.status_code == 503
        assert errors(response) == [("email_unavailable", None)]
        assert not DBTaskResult.objects.exists()


class TestCodeEmailDeliver:
    def test_sends_nothing_when_the_code_is_deleted_before_the_worker_runs(
        self, owner: User, now: datetime, fake_smtp: FakeSmtpService
    ) -> None:
        code_email_send(owner=owner, language="en", now=now)
        owner.referral_codes.update(is_active=False, deleted_at=now + timedelta(seconds=1))

        run_tasks()

        assert fake_smtp.messages == []
        assert DBTaskResult.objects.get().return_value == "skipped"
