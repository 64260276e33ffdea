"""Email through the task queue (common.emails): delivery by the worker, retries of a
mail server that is down, giving up, and the worker command itself."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from codes.services import code_email_send
from common.emails import retry_delay
from common.tasks import tasks_reclaim_abandoned
from tests.queue import deferred_tasks_due, run_tasks
from tests.servers import FakeSmtpService
from tests.users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db

PASSING_FAILURES = ["refuse", "reject", "garbage", "hang", "closed_port"]


@pytest.fixture
def owner() -> User:
    return UserFactory.create(email="anna@example.com")


def fail_with(fake_smtp: FakeSmtpService, settings: Any, failure: str | None) -> None:
    if failure == "closed_port":
        settings.EMAIL_PORT = 1
    else:
        settings.EMAIL_PORT = fake_smtp.port
        fake_smtp.failure = failure


def outcomes() -> list[str]:
    """Each attempt's result, oldest first."""
    return [
        str(task.return_value)
        for task in DBTaskResult.objects.exclude(status=TaskResultStatus.READY).order_by(
            "started_at"
        )
    ]


def waiting() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(status=TaskResultStatus.READY))


class TestDelivery:
    def test_a_server_down_for_two_attempts_gets_the_message_once_it_is_back(
        self, owner: User, now: datetime, fake_smtp: FakeSmtpService, settings: Any
    ) -> None:
        code_email_send(owner=owner, language="en", now=now)

        for failure in ("refuse", "reject", None):
            fail_with(fake_smtp, settings, failure)
            deferred_tasks_due(now=timezone.now())
            run_tasks()

        assert [message["to"] for message in fake_smtp.messages] == [["anna@example.com"]]
        assert outcomes() == ["retrying", "retrying", "sent"]
        assert waiting() == []
        assert run_tasks() == 0

    @pytest.mark.parametrize("failure", PASSING_FAILURES)
    def test_a_passing_failure_queues_the_next_attempt_after_a_pause(
        self,
        owner: User,
        now: datetime,
        fake_smtp: FakeSmtpService,
        settings: Any,
        failure: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        code_email_send(owner=owner, language="ru", now=now)
        fail_with(fake_smtp, settings, failure)

        run_tasks()

        [attempt] = DBTaskResult.objects.exclude(status=TaskResultStatus.READY)
        [retry] = waiting()
        assert attempt.return_value == "retrying"
        assert retry.args_kwargs["kwargs"] == {**attempt.args_kwargs["kwargs"], "attempt": 2}
        pause = retry.run_after - attempt.started_at
        assert timedelta(seconds=30) <= pause < timedelta(seconds=31)
        [line] = [r for r in caplog.records if r.getMessage() == "Email not sent yet"]
        assert (line.email_kind, line.user_uuid) == ("referral_code", str(owner.uuid))  # type: ignore[attr-defined]

    def test_the_pause_doubles_up_to_an_hour(self) -> None:
        pauses = [retry_delay(attempt=attempt).total_seconds() for attempt in range(1, 11)]

        assert pauses == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
        assert retry_delay(attempt=10_000) == timedelta(hours=1)

    def test_the_last_attempt_is_due_when_the_retry_window_ends(
        self, owner: User, fake_smtp: FakeSmtpService, settings: Any
    ) -> None:
        queued_at = timezone.now() - timedelta(hours=24) + timedelta(seconds=10)
        code_email_send(owner=owner, language="en", now=queued_at)
        fake_smtp.failure = "refuse"

        run_tasks()

        [retry] = waiting()
        assert retry.run_after == queued_at + timedelta(hours=24)

    @pytest.mark.parametrize(
        ("queued_minutes_ago", "outcome"), [(59, "retrying"), (61, "given_up")]
    )
    def test_retries_for_email_retry_hours(
        self,
        owner: User,
        fake_smtp: FakeSmtpService,
        settings: Any,
        queued_minutes_ago: int,
        outcome: str,
    ) -> None:
        settings.EMAIL_RETRY_HOURS = 1
        queued_at = timezone.now() - timedelta(minutes=queued_minutes_ago)
        code_email_send(owner=owner, language="en", now=queued_at)
        fake_smtp.failure = "refuse"

        run_tasks()

        assert outcomes() == [outcome]

    def test_beyond_the_retry_window_the_message_is_given_up_with_one_log_line(
        self,
        owner: User,
        fake_smtp: FakeSmtpService,
        settings: Any,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        settings.SHARE_URL_TEMPLATE = "https://shop.example/r/{code}/"
        code = owner.referral_codes.get().code
        code_email_send(
            owner=owner, language="en", now=timezone.now() - timedelta(hours=24, seconds=1)
        )
        fake_smtp.failure = "refuse"

        run_tasks()

        assert outcomes() == ["given_up"]
        assert waiting() == []
        assert fake_smtp.messages == []
        [line] = [r for r in caplog.records if r.getMessage() == "Email given up"]
        assert line.levelname == "ERROR"
        assert (line.email_kind, line.user_uuid, line.smtp_code) == (  # type: ignore[attr-defined]
            "referral_code",
            str(owner.uuid),
            421,
        )
        for secret in ("anna@example.com", code, "shop.example"):
            assert secret not in caplog.text

    def test_an_unknown_mailbox_is_given_up_at_once_without_its_address_in_the_log(
        self,
        owner: User,
        now: datetime,
        fake_smtp: FakeSmtpService,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        code_email_send(owner=owner, language="en", now=now)
        fake_smtp.failure = "unknown_user"  # its reply quotes the address

        run_tasks()

        assert outcomes() == ["given_up"]
        assert waiting() == []
        [line] = [r for r in caplog.records if r.getMessage() == "Email given up"]
        assert line.smtp_code == 550  # type: ignore[attr-defined]
        assert "anna@example.com" not in caplog.text

    def test_a_user_gone_before_the_worker_runs_gets_nothing(
        self, owner: User, now: datetime, fake_smtp: FakeSmtpService
    ) -> None:
        code_email_send(owner=owner, language="en", now=now)
        User.objects.filter(pk=owner.pk).update(is_active=False)

        run_tasks()

        assert outcomes() == ["skipped"]
        assert fake_smtp.messages == []


@pytest.fixture
def signal_handlers_kept() -> Iterator[None]:
    """db_worker installs its own SIGINT and SIGTERM handlers; the test run keeps its."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("signal_handlers_kept")
class TestWorkerCommand:
    def test_db_worker_sends_what_was_committed(
        self, owner: User, fake_smtp: FakeSmtpService
    ) -> None:
        code_email_send(owner=owner, language="en", now=timezone.now())

        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

        assert [message["to"] for message in fake_smtp.messages] == [["anna@example.com"]]
        assert DBTaskResult.objects.get().return_value == "sent"

    def test_a_task_deferred_past_now_waits(self, owner: User, fake_smtp: FakeSmtpService) -> None:
        code_email_send(owner=owner, language="en", now=timezone.now())
        DBTaskResult.objects.update(run_after=timezone.now() + timedelta(minutes=1))

        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

        assert fake_smtp.messages == []
        assert DBTaskResult.objects.get().run_after != get_date_max()

    def test_a_starting_worker_queues_again_what_a_killed_one_left_running(
        self, owner: User, fake_smtp: FakeSmtpService, settings: Any
    ) -> None:
        code_email_send(owner=owner, language="en", now=timezone.now())
        left = DBTaskResult.objects.get()
        # A worker claimed it and was killed (SIGKILL): it stays RUNNING.
        left.claim("killed-worker")
        long_ago = timezone.now() - timedelta(seconds=settings.TASKS_RUNNING_TIMEOUT + 1)
        DBTaskResult.objects.filter(pk=left.pk).update(started_at=long_ago)

        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

        left.refresh_from_db()
        assert left.status == TaskResultStatus.SUCCESSFUL
        assert [message["to"] for message in fake_smtp.messages] == [["anna@example.com"]]


class TestAbandonedTasks:
    def test_a_task_running_for_less_than_the_timeout_is_left_to_its_worker(
        self, owner: User, now: datetime, settings: Any
    ) -> None:
        code_email_send(owner=owner, language="en", now=now)
        running = DBTaskResult.objects.get()
        running.claim("busy-worker")
        just_started = running.started_at
        assert just_started is not None

        reclaimed = tasks_reclaim_abandoned(now=just_started + timedelta(seconds=1))
        later = tasks_reclaim_abandoned(
            now=just_started + timedelta(seconds=settings.TASKS_RUNNING_TIMEOUT + 1)
        )

        assert (reclaimed, later) == (0, 1)
        running.refresh_from_db()
        assert running.status == TaskResultStatus.READY
