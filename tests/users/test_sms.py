"""The SMS backends; the `http` one against a local server on a real socket."""

from __future__ import annotations

import io
import json
import socketserver
import threading
from collections.abc import Iterator

import pytest
from pytest_django import Settings

from tests.servers import FakeHttpService
from tests.users.helpers import unused_port
from users import sms
from users.clients import SmsGatewayError
from users.sms import (
    ConsoleSmsBackend,
    HttpSmsBackend,
    LocmemSmsBackend,
    SmsMessage,
    SmsSendError,
    sms_backend_get,
    sms_send,
)

MESSAGE = SmsMessage(to="+79991234567", text="Your sign-in code: 482916. It expires in 5 minutes.")


@pytest.fixture
def gateway(fake_http: FakeHttpService, settings: Settings) -> FakeHttpService:
    settings.SMS_BACKEND = "users.sms.HttpSmsBackend"
    settings.SMS_HTTP_URL = fake_http.url + "v1/messages"
    settings.SMS_HTTP_TOKEN = "gateway-token"
    settings.SMS_HTTP_TIMEOUT = 0.5
    return fake_http


@pytest.fixture
def garbage_server() -> Iterator[str]:
    """A TCP server that answers any request with a line that is not HTTP; its URL."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.rfile.readline()
            self.wfile.write(b"oops, not HTTP\r\n\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/messages"
    server.shutdown()
    server.server_close()


class TestSmsBackendGet:
    @pytest.mark.parametrize(
        ("path", "backend_class"),
        [
            ("users.sms.ConsoleSmsBackend", ConsoleSmsBackend),
            ("users.sms.LocmemSmsBackend", LocmemSmsBackend),
            ("users.sms.HttpSmsBackend", HttpSmsBackend),
        ],
    )
    def test_builds_the_configured_backend(
        self, path: str, backend_class: type, settings: Settings
    ) -> None:
        settings.SMS_BACKEND = path

        assert type(sms_backend_get()) is backend_class


class TestConsoleBackend:
    def test_prints_the_whole_message(self, settings: Settings) -> None:
        settings.APP_ENV = "local"
        stream = io.StringIO()

        sent = ConsoleSmsBackend(stream=stream).send_messages([MESSAGE])

        assert sent == 1
        assert stream.getvalue() == f"SMS to +79991234567: {MESSAGE.text}\n"

    def test_masks_codes_and_the_phone_in_production(self, settings: Settings) -> None:
        settings.APP_ENV = "production"
        stream = io.StringIO()

        ConsoleSmsBackend(stream=stream).send_messages([MESSAGE])

        printed = stream.getvalue()
        assert "482916" not in printed
        assert "9991234567" not in printed
        assert (
            printed == "SMS to +7********67: Your sign-in code: ******. It expires in 5 minutes.\n"
        )

    def test_writes_to_stdout_by_default(
        self, settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        settings.APP_ENV = "local"
        settings.SMS_BACKEND = "users.sms.ConsoleSmsBackend"

        sms_send(to=MESSAGE.to, text=MESSAGE.text)

        assert "482916" in capsys.readouterr().out


class TestLocmemBackend:
    def test_appends_to_the_outbox(self, settings: Settings) -> None:
        settings.SMS_BACKEND = "users.sms.LocmemSmsBackend"

        sms_send(to=MESSAGE.to, text=MESSAGE.text)

        assert sms.outbox == [MESSAGE]


class TestHttpBackend:
    def test_posts_the_message_as_json_with_the_bearer_token(
        self, gateway: FakeHttpService
    ) -> None:
        gateway.answer_json({"id": "m-1"}, status=202)

        sent = HttpSmsBackend().send_messages([MESSAGE])

        assert sent == 1
        [request] = gateway.requests
        assert (request["method"], request["path"]) == ("POST", "/v1/messages")
        assert request["headers"]["Authorization"] == "Bearer gateway-token"
        assert request["headers"]["Content-Type"] == "application/json"
        assert json.loads(request["body"]) == {"to": "+79991234567", "text": MESSAGE.text}

    @pytest.mark.parametrize("status", [200, 201, 204])
    def test_any_2xx_is_success_whatever_its_body(
        self, gateway: FakeHttpService, status: int
    ) -> None:
        gateway.answer_raw(b"" if status == 204 else b"<html>queued</html>", status=status)

        assert HttpSmsBackend().send_messages([MESSAGE]) == 1

    @pytest.mark.parametrize("status", [400, 401, 429, 500, 502, 503])
    def test_refuses_an_error_status(self, gateway: FakeHttpService, status: int) -> None:
        gateway.answer_json({"error": "nope"}, status=status)

        with pytest.raises(SmsSendError) as failed:
            HttpSmsBackend().send_messages([MESSAGE])

        assert isinstance(failed.value.__cause__, SmsGatewayError)
        assert str(failed.value.__cause__) == f"HTTP {status}"

    def test_gives_up_on_a_gateway_that_hangs_past_the_timeout(
        self, gateway: FakeHttpService, settings: Settings
    ) -> None:
        settings.SMS_HTTP_TIMEOUT = 0.2
        gateway.should_hang = True

        with pytest.raises(SmsSendError) as failed:
            HttpSmsBackend().send_messages([MESSAGE])

        assert isinstance(failed.value.__cause__, SmsGatewayError)
        assert len(gateway.requests) == 1  # it arrived, and no answer came

    def test_refuses_a_closed_port(self, settings: Settings) -> None:
        settings.SMS_HTTP_URL = f"http://127.0.0.1:{unused_port()}/v1/messages"

        with pytest.raises(SmsSendError) as failed:
            HttpSmsBackend().send_messages([MESSAGE])

        assert isinstance(failed.value.__cause__, SmsGatewayError)

    def test_refuses_an_answer_that_is_not_http(
        self, garbage_server: str, settings: Settings
    ) -> None:
        settings.SMS_HTTP_URL = garbage_server
        settings.SMS_HTTP_TIMEOUT = 2.0

        with pytest.raises(SmsSendError) as failed:
            HttpSmsBackend().send_messages([MESSAGE])

        assert isinstance(failed.value.__cause__, SmsGatewayError)
