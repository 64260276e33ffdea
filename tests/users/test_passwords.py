"""The password endpoints: change, reset by email (over a real SMTP connection where
the mail server's behaviour matters) and reset confirmation."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import timezone
from djoser.utils import decode_uid, encode_uid
from pytest_django import Settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.helpers import client_for
from tests.queue import deferred_tasks_due, run_tasks
from tests.servers import FakeSmtpService
from tests.users.factories import DEFAULT_PASSWORD, UserFactory
from users.models import User

if TYPE_CHECKING:
    from tests.helpers import ApiResponse


pytestmark = pytest.mark.django_db

WEAK_PASSWORD_CODES = {"password_too_short", "password_too_common", "password_entirely_numeric"}


def codes(response: ApiResponse) -> set[tuple[str, str | None]]:
    return {(error["code"], error["attr"]) for error in response.json()["errors"]}


def outbox() -> list[EmailMessage]:
    """Django's test outbox once the task worker has sent the queued mail."""
    run_tasks()
    return mail.outbox


def delivered(server: FakeSmtpService) -> list[dict[str, Any]]:
    run_tasks()
    return server.messages


def reset_link(user: User) -> dict[str, str]:
    return {"uid": encode_uid(str(user.uuid)), "token": default_token_generator.make_token(user)}


class TestPasswords:
    def test_set_password_ends_outstanding_refresh_tokens(self, user: User) -> None:
        refresh = str(RefreshToken.for_user(user))
        client = client_for(user)

        response = client.post(
            "/api/users/set_password/",
            {"current_password": DEFAULT_PASSWORD, "new_password": "An0ther-Secret!"},
            format="json",
        )
        after = APIClient().post("/api/auth/jwt/refresh/", {"refresh": refresh}, format="json")
        old_access = client.get("/api/users/me/")

        assert response.status_code == 204
        assert after.status_code == 401
        assert old_access.status_code == 401

    def test_reset_answers_204_for_unknown_email_and_sends_nothing(
        self, api_client: APIClient
    ) -> None:
        response = api_client.post(
            "/api/users/reset_password/", {"email": "nobody@example.com"}, format="json"
        )

        assert response.status_code == 204
        assert outbox() == []

    def test_reset_round_trip_uses_the_uuid_and_the_token_is_single_use(
        self, api_client: APIClient
    ) -> None:
        user = UserFactory.create(email="anna@example.com")
        refresh = str(RefreshToken.for_user(user))

        api_client.post("/api/users/reset_password/", {"email": "anna@example.com"}, format="json")
        link = re.search(
            r"password/reset/confirm/(?P<uid>[^/\s]+)/(?P<token>[^/\s]+)", str(outbox()[0].body)
        )
        assert link is not None
        body = {**link.groupdict(), "new_password": "Brand-new-Secret-1"}
        confirmed = api_client.post("/api/users/reset_password_confirm/", body, format="json")
        replayed = api_client.post("/api/users/reset_password_confirm/", body, format="json")
        old_refresh = api_client.post("/api/auth/jwt/refresh/", {"refresh": refresh}, format="json")

        assert decode_uid(link["uid"]) == str(user.uuid)
        assert confirmed.status_code == 204
        assert replayed.status_code == 400
        assert old_refresh.status_code == 401
        user.refresh_from_db()
        assert user.check_password("Brand-new-Secret-1")

    def test_reset_link_points_at_the_configured_frontend(
        self, api_client: APIClient, settings: Settings
    ) -> None:
        settings.DJOSER = {
            **settings.DJOSER,
            "EMAIL_FRONTEND_PROTOCOL": "https",
            "EMAIL_FRONTEND_DOMAIN": "app.example.com",
        }
        UserFactory.create(email="anna@example.com")

        api_client.post("/api/users/reset_password/", {"email": "anna@example.com"}, format="json")

        assert "https://app.example.com/password/reset/confirm/" in str(outbox()[0].body)

    def test_reset_email_follows_the_request_language(self, api_client: APIClient) -> None:
        UserFactory.create(email="anna@example.com")

        api_client.post(
            "/api/users/reset_password/",
            {"email": "anna@example.com"},
            format="json",
            HTTP_ACCEPT_LANGUAGE="ru",
        )

        assert re.search("[а-яА-Я]", str(outbox()[0].subject) + str(outbox()[0].body))


class TestSetPassword:
    def test_weak_new_password_gets_djangos_codes(self, auth_client: APIClient) -> None:
        response = auth_client.post(
            "/api/users/set_password/",
            {"current_password": DEFAULT_PASSWORD, "new_password": "1234"},
            format="json",
        )

        assert response.status_code == 400
        assert codes(response) == {(code, "new_password") for code in WEAK_PASSWORD_CODES}

    def test_wrong_current_password_has_its_code(self, auth_client: APIClient) -> None:
        response = auth_client.post(
            "/api/users/set_password/",
            {"current_password": "wrong", "new_password": "An0ther-Secret!"},
            format="json",
        )

        assert codes(response) == {("invalid_password", "current_password")}

    def test_requires_authentication(self, api_client: APIClient) -> None:
        response = api_client.post(
            "/api/users/set_password/",
            {"current_password": DEFAULT_PASSWORD, "new_password": "An0ther-Secret!"},
            format="json",
        )

        assert response.status_code == 401


class TestResetPassword:
    def test_matches_the_email_case_insensitively(self, api_client: APIClient) -> None:
        UserFactory.create(email="Anna@Example.com")

        response = api_client.post(
            "/api/users/reset_password/", {"email": "ANNA@example.COM"}, format="json"
        )

        assert response.status_code == 204
        assert [message.to for message in outbox()] == [["Anna@example.com"]]

    @pytest.mark.parametrize("who", ["inactive", "no_password"])
    def test_sends_nothing_to_inactive_or_passwordless_users(
        self, api_client: APIClient, who: str
    ) -> None:
        user = UserFactory.create(email="anna@example.com")
        if who == "inactive":
            User.objects.filter(pk=user.pk).update(is_active=False)
        else:
            user.set_unusable_password()
            user.save(update_fields=["password"])

        response = api_client.post(
            "/api/users/reset_password/", {"email": "anna@example.com"}, format="json"
        )

        assert response.status_code == 204
        assert outbox() == []

    def test_sends_one_email_per_interval(self, api_client: APIClient) -> None:
        UserFactory.create(email="anna@example.com")

        for spelling in ("anna@example.com", "ANNA@example.com", "anna@example.com"):
            response = api_client.post(
                "/api/users/reset_password/", {"email": spelling}, format="json"
            )
            assert response.status_code == 204

        assert len(outbox()) == 1

    def test_sends_the_link_over_smtp(
        self, api_client: APIClient, fake_smtp: FakeSmtpService
    ) -> None:
        user = UserFactory.create(email="anna@example.com")

        response = api_client.post(
            "/api/users/reset_password/", {"email": "anna@example.com"}, format="json"
        )

        assert response.status_code == 204
        [message] = delivered(fake_smtp)
        assert message["to"] == ["anna@example.com"]
        assert encode_uid(str(user.uuid)) in message["data"]

    @pytest.mark.parametrize("failure", ["refuse", "reject", "garbage", "hang", "closed_port"])
    def test_mail_server_failure_is_logged_not_told(
        self,
        api_client: APIClient,
        fake_smtp: FakeSmtpService,
        failure: str,
        caplog: pytest.LogCaptureFixture,
        settings: object,
    ) -> None:
        """204 as for an unknown address, so that an outage never reveals which
        addresses have accounts; the failure is in the log, and the worker tries again."""
        UserFactory.create(email="anna@example.com")
        if failure == "closed_port":
            fake_smtp.port = 1
            settings.EMAIL_PORT = 1  # type: ignore[attr-defined]
        else:
            fake_smtp.failure = failure

        response = api_client.post(
            "/api/users/reset_password/", {"email": "anna@example.com"}, format="json"
        )

        assert response.status_code == 204
        assert delivered(fake_smtp) == []
        [failure_log] = [r for r in caplog.records if r.getMessage() == "Email not sent yet"]
        assert failure_log.email_kind == "password_reset"  # type: ignore[attr-defined]

    def test_the_queued_email_goes_out_once_the_mail_server_is_back(
        self, api_client: APIClient, fake_smtp: FakeSmtpService
    ) -> None:
        """A request while the first email waits for its retry queues no second one: the
        interval holds, and the retry delivers."""
        UserFactory.create(email="anna@example.com")
        body = {"email": "anna@example.com"}
        fake_smtp.failure = "refuse"
        api_client.post("/api/users/reset_password/", body, format="json")
        run_tasks()
        api_client.post("/api/users/reset_password/", body, format="json")

        fake_smtp.failure = None
        deferred_tasks_due(now=timezone.now())

        assert [message["to"] for message in delivered(fake_smtp)] == [["anna@example.com"]]


class TestResetPasswordConfirm:
    @pytest.mark.parametrize(
        "body",
        [
            {"uid": "!!!"},
            {"uid": encode_uid("not-a-uuid")},
            {"uid": encode_uid("00000000-0000-4000-8000-000000000000")},
            {"uid": "gA"},  # base64 of a byte that is not UTF-8
        ],
    )
    def test_bad_uid_is_400_invalid_uid(
        self, api_client: APIClient, user: User, body: dict[str, object]
    ) -> None:
        request = {**reset_link(user), "new_password": "Brand-new-Secret-1", **body}

        response = api_client.post("/api/users/reset_password_confirm/", request, format="json")

        assert response.status_code == 400
        assert codes(response) == {("invalid_uid", "uid")}

    @pytest.mark.parametrize("body", [{"uid": 123}, {"uid": 1.5}, {"token": 123}])
    def test_a_uid_or_token_that_is_no_string_is_400_invalid(
        self, api_client: APIClient, user: User, body: dict[str, object]
    ) -> None:
        request = {**reset_link(user), "new_password": "Brand-new-Secret-1", **body}

        response = api_client.post("/api/users/reset_password_confirm/", request, format="json")

        assert response.status_code == 400
        assert codes(response) == {("invalid", next(iter(body)))}

    @pytest.mark.parametrize("token", ["1-2", "wrong-token"])
    def test_bad_token_is_400_invalid_token(
        self, api_client: APIClient, user: User, token: object
    ) -> None:
        request = {**reset_link(user), "token": token, "new_password": "Brand-new-Secret-1"}

        response = api_client.post("/api/users/reset_password_confirm/", request, format="json")

        assert response.status_code == 400
        assert codes(response) == {("invalid_token", "token")}

    def test_inactive_user_is_400_invalid_uid(self, api_client: APIClient, user: User) -> None:
        link = reset_link(user)
        User.objects.filter(pk=user.pk).update(is_active=False)

        response = api_client.post(
            "/api/users/reset_password_confirm/",
            {**link, "new_password": "Brand-new-Secret-1"},
            format="json",
        )

        assert codes(response) == {("invalid_uid", "uid")}

    def test_weak_new_password_gets_djangos_codes(self, api_client: APIClient, user: User) -> None:
        response = api_client.post(
            "/api/users/reset_password_confirm/",
            {**reset_link(user), "new_password": "1234"},
            format="json",
        )

        assert codes(response) == {(code, "new_password") for code in WEAK_PASSWORD_CODES}
        user.refresh_from_db()
        assert user.check_password(DEFAULT_PASSWORD)
