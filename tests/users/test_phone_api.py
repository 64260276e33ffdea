"""Phone sign-in over HTTP: POST /api/auth/phone/code/ and /api/auth/phone/token/,
through the locmem SMS backend, and parallel requests on Postgres."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from pytest_django import Settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from codes.services import code_issue
from tests.helpers import documented_errors, only_error, run_in_parallel
from tests.servers import FakeHttpService
from tests.users.factories import UserFactory
from tests.users.helpers import sent_code
from users import sms
from users.models import PhoneCode, User
from users.services.accounts import user_create, user_deactivate
from users.services.phone import PHONE_CODE_MAX_ATTEMPTS, phone_code_store

if TYPE_CHECKING:
    from tests.helpers import ApiResponse

pytestmark = pytest.mark.django_db

PHONE = "+79991234567"
CODE_URL = "/api/auth/phone/code/"
TOKEN_URL = "/api/auth/phone/token/"


def set_rate(settings: Settings, scope: str, rate: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            scope: rate,
        },
    }


def ask_code(client: APIClient, phone: str = PHONE, **headers: Any) -> ApiResponse:
    return client.post(CODE_URL, {"phone": phone}, format="json", **headers)


def sign_in(client: APIClient, code: str, phone: str = PHONE, **fields: str) -> ApiResponse:
    return client.post(TOKEN_URL, {"phone": phone, "code": code, **fields}, format="json")


class TestPhoneCodeSend:
    def test_texts_a_code_and_answers_202(
        self, api_client: APIClient, sms_outbox: list[sms.SmsMessage]
    ) -> None:
        response = ask_code(api_client, phone="+7 (999) 123-45-67")

        assert response.status_code == 202
        assert response.json() == {
            "detail": "A sign-in code was sent to this phone.",
            "expires_in": 300,
            "resend_after": 60,
        }
        assert [message.to for message in sms_outbox] == [PHONE]
        assert len(sent_code(sms_outbox)) == 6

    def test_answers_and_texts_in_the_requests_language(
        self, api_client: APIClient, sms_outbox: list[sms.SmsMessage]
    ) -> None:
        response = ask_code(api_client, HTTP_ACCEPT_LANGUAGE="ru")

        assert response.json()["detail"] == "Код для входа отправлен на этот телефон."
        assert sms_outbox[-1].text.startswith("Код для входа: ")

    @pytest.mark.parametrize("phone", ["12345", "not a phone", ""])
    def test_refuses_an_invalid_phone(
        self, api_client: APIClient, sms_outbox: list[sms.SmsMessage], phone: str
    ) -> None:
        response = ask_code(api_client, phone=phone)

        assert response.status_code == 400
        assert only_error(response)["attr"] == "phone"
        assert only_error(response)["code"] in {"invalid", "blank"}
        assert sms_outbox == []

    def test_a_second_code_within_the_resend_interval_is_429_with_retry_after(
        self, api_client: APIClient, sms_outbox: list[sms.SmsMessage]
    ) -> None:
        ask_code(api_client)

        response = ask_code(api_client, phone="8 999 123 45 67")

        assert response.status_code == 429
        assert 59 <= int(response["Retry-After"]) <= 60
        assert response.json()["type"] == "client_error"
        assert only_error(response)["code"] == "throttled"
        assert only_error(response)["detail"].startswith("A code was sent to this phone")
        assert len(sms_outbox) == 1

    def test_a_failing_gateway_is_503_and_keeps_no_code(
        self, fake_http: FakeHttpService, settings: Settings
    ) -> None:
        settings.SMS_BACKEND = "users.sms.HttpSmsBackend"
        settings.SMS_HTTP_URL = fake_http.url
        fake_http.answer_json({"error": "down"}, status=502)
        client = APIClient(raise_request_exception=False)  # a 5xx, logged with its cause

        response = ask_code(client)

        assert response.status_code == 503
        assert response.json()["type"] == "server_error"
        assert only_error(response)["code"] == "sms_unavailable"
        assert len(fake_http.requests) == 1
        assert not PhoneCode.objects.exists()
        # No code was kept, so none holds the resend interval: the next try goes out.
        fake_http.answer_json({}, status=200)
        assert ask_code(client).status_code == 202

    def test_is_throttled_per_ip(
        self, api_client: APIClient, settings: Settings, sms_outbox: list[sms.SmsMessage]
    ) -> None:
        set_rate(settings, "phone_code", "2/hour")
        for n in range(2):
            assert ask_code(api_client, phone=f"+7999123450{n}").status_code == 202

        response = ask_code(api_client, phone="+79991234509")
        from_elsewhere = ask_code(api_client, phone="+79991234508", REMOTE_ADDR="203.0.113.9")

        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert from_elsewhere.status_code == 202
        assert len(sms_outbox) == 3


class TestPhoneTokenCreate:
    def test_the_whole_flow_creates_an_account_and_signs_it_in(
        self, api_client: APIClient, sms_outbox: list[sms.SmsMessage]
    ) -> None:
        ask_code(api_client, phone="89991234567")

        response = sign_in(api_client, sent_code(sms_outbox), phone="+7 999 123-45-67")

        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access", "refresh", "created"}
        assert body["created"] is True
        me = APIClient()
        me.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
        profile = me.get("/api/users/me/").json()
        assert (profile["phone"], profile["email"], profile["username"]) == (PHONE, "", "")
        assert profile["referral_code"] is not None
        refreshed = api_client.post("/api/auth/jwt/refresh/", {"refresh": body["refresh"]})
        assert refreshed.status_code == 200

    def test_a_known_phone_signs_in_with_created_false(
        self, api_client: APIClient, sms_outbox: list[sms.SmsMessage]
    ) -> None:
        existing = UserFactory.create(phone=PHONE)
        ask_code(api_client)

        response = sign_in(api_client, sent_code(sms_outbox))

        assert response.status_code == 200
        assert response.json()["created"] is False
        assert OutstandingToken.objects.filter(user=existing).count() == 1

    def test_a_code_works_once(
        self, api_client: APIClient, sms_outbox: list[sms.SmsMessage]
    ) -> None:
        ask_code(api_client)
        code = sent_code(sms_outbox)
        sign_in(api_client, code)

        response = sign_in(api_client, code)

        assert response.status_code == 400
        assert only_error(response) | {"detail": ""} == {
            "code": "invalid_code",
            "attr": "code",
            "detail": "",
        }

    def test_a_wrong_code_is_400_invalid_code(
        self, api_client: APIClient, sms_outbox: list[sms.SmsMessage]
    ) -> None:
        ask_code(api_client)

        response = sign_in(api_client, "x" + sent_code(sms_outbox))

        assert response.status_code == 400
        assert only_error(response)["code"] == "invalid_code"

    def test_after_the_fifth_wrong_try_the_right_code_is_refused(
        self, api_client: APIClient, sms_outbox: list[sms.SmsMessage], settings: Settings
    ) -> None:
        set_rate(settings, "login", "100/min")
        ask_code(api_client)
        for _ in range(PHONE_CODE_MAX_ATTEMPTS):
            assert sign_in(api_client, "0").status_code == 400

        response = sign_in(api_client, sent_code(sms_outbox))

        assert response.status_code == 400
        assert only_error(response)["code"] == "invalid_code"
        assert not User.objects.filter(phone=PHONE).exists()

    def test_answers_in_russian_when_asked(
        self, api_client: APIClient, sms_outbox: list[sms.SmsMessage]
    ) -> None:
        response = api_client.post(
            TOKEN_URL, {"phone": PHONE, "code": "123456"}, format="json", HTTP_ACCEPT_LANGUAGE="ru"
        )

        assert (
            only_error(response)["detail"]
            == "Код неверен или больше не действует. Запросите новый."
        )

    def test_refuses_an_invalid_phone(self, api_client: APIClient) -> None:
        response = sign_in(api_client, "123456", phone="12345")

        assert response.status_code == 400
        assert (only_error(response)["code"], only_error(response)["attr"]) == ("invalid", "phone")

    def test_an_inactive_account_gets_invalid_code_and_no_token(
        self, api_client: APIClient, sms_outbox: list[sms.SmsMessage]
    ) -> None:
        inactive = UserFactory.create(phone=PHONE)
        user_deactivate(user=inactive)
        ask_code(api_client)

        response = sign_in(api_client, sent_code(sms_outbox))

        assert response.status_code == 400
        assert only_error(response)["code"] == "invalid_code"
        assert "access" not in response.json()
        assert not OutstandingToken.objects.filter(user=inactive).exists()

    def test_a_referral_code_makes_its_owner_the_referrer(
        self, api_client: APIClient, sms_outbox: list[sms.SmsMessage]
    ) -> None:
        referrer = UserFactory.create(username="anna")
        code = code_issue(owner=referrer, now=timezone.now())
        ask_code(api_client)

        response = sign_in(api_client, sent_code(sms_outbox), referral_code=code.code.lower())

        assert response.status_code == 200
        assert User.objects.get(phone=PHONE).referred_by == referrer

    def test_a_used_up_referral_code_is_400_on_referral_code(
        self, api_client: APIClient, sms_outbox: list[sms.SmsMessage]
    ) -> None:
        code = code_issue(owner=UserFactory.create(), max_uses=1, now=timezone.now())
        UserFactory.create(referral_code=code.code)
        ask_code(api_client)

        response = sign_in(api_client, sent_code(sms_outbox), referral_code=code.code)

        assert response.status_code == 400
        assert (only_error(response)["code"], only_error(response)["attr"]) == (
            "used_up",
            "referral_code",
        )
        assert not User.objects.filter(phone=PHONE).exists()
        # The phone code was not spent: the same code signs in without the invite.
        assert sign_in(api_client, sent_code(sms_outbox)).status_code == 200

    def test_is_throttled_per_ip_with_the_login_rate(
        self, api_client: APIClient, settings: Settings
    ) -> None:
        set_rate(settings, "login", "2/min")
        for _ in range(2):
            assert sign_in(api_client, "123456").status_code == 400

        response = sign_in(api_client, "123456")

        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        # The same scope as POST /api/auth/jwt/create/: one budget per address.
        jwt = api_client.post("/api/auth/jwt/create/", {"email": "a@example.com", "password": "x"})
        assert jwt.status_code == 429


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
class TestParallelRequests:
    """Real threads, each on its own Postgres connection, released together."""

    @pytest.fixture(autouse=True)
    def _no_throttles(self, settings: Settings) -> None:
        for scope in ("login", "phone_code", "anon"):
            set_rate(settings, scope, "100000/min")

    def test_one_code_yields_one_token_pair(self) -> None:
        phone_code_store(phone=PHONE, code="123456", now=timezone.now())

        responses = run_in_parallel([lambda: sign_in(APIClient(), "123456") for _ in range(8)])

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] + [400] * 7, statuses
        assert User.objects.filter(phone=PHONE).count() == 1
        assert OutstandingToken.objects.count() == 1

    def test_parallel_wrong_guesses_count_at_most_five(self) -> None:
        phone_code_store(phone=PHONE, code="123456", now=timezone.now())

        responses = run_in_parallel(
            [lambda n=n: sign_in(APIClient(), f"{n:06d}") for n in range(12)]
        )

        assert all(response.status_code == 400 for response in responses)
        # Each counted try was seen by the next: no lost update let a sixth one check.
        assert PhoneCode.objects.get(phone=PHONE).attempts == PHONE_CODE_MAX_ATTEMPTS
        assert sign_in(APIClient(), "123456").status_code == 400

    def test_parallel_code_requests_for_one_phone_send_one_code(
        self, sms_outbox: list[sms.SmsMessage]
    ) -> None:
        responses = run_in_parallel([lambda: ask_code(APIClient()) for _ in range(2)])

        assert sorted(response.status_code for response in responses) == [202, 429]
        assert len(sms_outbox) == 1
        assert PhoneCode.objects.filter(phone=PHONE).count() == 1

    def test_a_phone_registered_by_email_meanwhile_signs_in_to_that_account(self) -> None:
        """The sign-in finds no account, then its insert waits on the phone's unique
        index for a registration that commits: it signs in to that account."""
        phone_code_store(phone=PHONE, code="123456", now=timezone.now())
        registered = threading.Event()
        release = threading.Event()

        def register() -> User:
            with transaction.atomic():
                user = user_create(
                    email="anna@example.com", password="x", phone=PHONE, now=timezone.now()
                )
                registered.set()
                release.wait(timeout=30)
            return user

        def phone_sign_in_once_registering() -> ApiResponse:
            registered.wait(timeout=30)
            return sign_in(APIClient(), "123456")

        def commit_once_the_sign_in_waits() -> None:
            registered.wait(timeout=30)
            wait_for_a_lock_wait()
            release.set()

        results = run_in_parallel(
            [register, phone_sign_in_once_registering, commit_once_the_sign_in_waits]
        )

        user, response, _ = results
        assert isinstance(user, User), user
        assert response.status_code == 200, response.json()
        assert response.json()["created"] is False
        assert OutstandingToken.objects.get().user == user


def wait_for_a_lock_wait(polls: int = 3000) -> None:
    """Block until a session of this database waits on a lock (the sign-in's insert, on
    the phone's unique index), asking Postgres' own view of its sessions: no other
    signal says that a statement is blocked."""
    for _ in range(polls):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        threading.Event().wait(0.01)
    raise AssertionError("no session ever waited on a lock")


class TestSchema:
    @pytest.fixture
    def schema(self, api_client: APIClient) -> dict[str, Any]:
        response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        return dict(response.json())

    @pytest.mark.parametrize(
        ("path", "attr", "code"),
        [
            (CODE_URL, "phone", "invalid"),
            (TOKEN_URL, "phone", "invalid"),
            (TOKEN_URL, "code", "invalid_code"),
            (TOKEN_URL, "referral_code", "invalid"),
            (TOKEN_URL, "referral_code", "expired"),
            (TOKEN_URL, "referral_code", "used_up"),
            (TOKEN_URL, "referral_code", "too_deep"),
        ],
    )
    def test_documents_the_400_codes(
        self, schema: dict[str, Any], path: str, attr: str, code: str
    ) -> None:
        assert (attr, code) in documented_errors(schema, path, "post", "400")

    @pytest.mark.parametrize(("path", "success"), [(CODE_URL, "202"), (TOKEN_URL, "200")])
    def test_documents_the_answer_and_the_429(
        self, schema: dict[str, Any], path: str, success: str
    ) -> None:
        operation = schema["paths"][path]["post"]

        assert {success, "400", "429", "503"} <= operation["responses"].keys()
        assert operation["summary"]
        assert "examples" in operation["responses"][success]["content"]["application/json"]

    def test_documents_sms_unavailable(self, schema: dict[str, Any]) -> None:
        enum = schema["components"]["schemas"]["SmsUnavailableErrorCodeEnum"]["enum"]
        response = schema["paths"][CODE_URL]["post"]["responses"]["503"]

        assert "sms_unavailable" in enum
        assert response["content"]["application/json"]["schema"]["$ref"].endswith(
            "/SmsUnavailableErrorResponse"
        )
