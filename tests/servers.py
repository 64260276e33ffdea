"""Real servers the tests start on loopback: fakes of the third parties we do not own (an
HTTP service such as Hunter.io or an SMS gateway, an SMTP server), our own gunicorn as
production runs it, and a TCP proxy that can be frozen in front of Postgres or Redis."""

from __future__ import annotations

import email
import email.message
import email.policy
import json
import os
import re
import signal
import socketserver
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse


@contextmanager
def _serving(server: socketserver.BaseServer, *, release: threading.Event) -> Iterator[None]:
    """Serve from a thread until the block ends; then `release` lets any request held open
    finish, and the server closes."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        release.set()
        server.shutdown()
        server.server_close()


@dataclass
class FakeHttpService:
    """A local HTTP server that answers as a configured third-party service would."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: bytes = b"{}"
    hang: threading.Event = field(default_factory=threading.Event)
    should_hang: bool = False

    def answer_json(self, payload: Any, status: int = 200) -> None:
        self.status, self.body = status, json.dumps(payload).encode()

    def answer_raw(self, body: bytes, status: int = 200) -> None:
        self.status, self.body = status, body


@contextmanager
def serve_http() -> Iterator[FakeHttpService]:
    """A real HTTP server on 127.0.0.1 recording requests; `should_hang` makes it hold
    the request open (until teardown) so clients meet their own timeout."""
    service: FakeHttpService

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parsed = urlparse(self.path)
            service.requests.append(
                {
                    "method": self.command,
                    "path": parsed.path,
                    "query": {k: v[0] for k, v in parse_qs(parsed.query).items()},
                    "headers": dict(self.headers),
                    "body": self.rfile.read(length) if length else b"",
                }
            )
            if service.should_hang:
                service.hang.wait(timeout=30)
                return
            self.send_response(service.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(service.body)))
            self.end_headers()
            self.wfile.write(service.body)

        do_GET = do_POST = _record

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    service = FakeHttpService(url=f"http://127.0.0.1:{server.server_address[1]}/")
    with _serving(server, release=service.hang):
        yield service


@dataclass
class FakeSmtpService:
    """A local SMTP server: `failure` None accepts and records every message; otherwise
    "refuse" answers 421 at the greeting, "reject" 451 to MAIL FROM, "unknown_user" 550
    to RCPT TO (quoting the address, as servers do), "garbage" greets with a line that is
    not SMTP, "hang" never greets (the client meets its own timeout)."""

    host: str
    port: int
    messages: list[dict[str, Any]] = field(default_factory=list)
    failure: str | None = None
    hang: threading.Event = field(default_factory=threading.Event)

    def emails(self) -> list[email.message.EmailMessage]:
        """The messages received so far, parsed (headers decoded, parts walkable)."""
        return [
            email.message_from_bytes(message["data"].encode(), policy=email.policy.default)
            for message in self.messages
        ]


@contextmanager
def serve_smtp() -> Iterator[FakeSmtpService]:
    """A real SMTP server on 127.0.0.1 (see FakeSmtpService for its failures)."""
    service: FakeSmtpService

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")

        def handle(self) -> None:
            if service.failure == "hang":
                service.hang.wait(timeout=30)
                return
            if service.failure in ("refuse", "garbage"):
                self.reply(
                    "421 4.3.2 Service not available" if service.failure == "refuse" else "oops"
                )
                return
            self.reply("220 fake.smtp ESMTP")
            sender, in_data = "", False
            recipients: list[str] = []
            lines: list[str] = []
            for raw in self.rfile:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if in_data:
                    if line == ".":
                        in_data = False
                        service.messages.append(
                            {"from": sender, "to": recipients, "data": "\n".join(lines)}
                        )
                        self.reply("250 2.0.0 queued")
                    else:
                        lines.append(line[1:] if line.startswith("..") else line)
                    continue
                verb = line[:4].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 fake.smtp")
                elif verb == "MAIL":
                    if service.failure == "reject":
                        self.reply("451 4.3.0 Try again later")
                        continue
                    sender, recipients = line[10:].strip("<>"), []
                    self.reply("250 2.1.0 OK")
                elif verb == "RCPT":
                    if service.failure == "unknown_user":
                        self.reply(f"550 5.1.1 {line[8:]}: Recipient address rejected")
                        continue
                    recipients.append(line[8:].strip("<>"))
                    self.reply("250 2.1.5 OK")
                elif verb == "DATA":
                    in_data, lines = True, []
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                elif verb == "QUIT":
                    self.reply("221 2.0.0 Bye")
                    return
                else:  # RSET, NOOP
                    self.reply("250 2.0.0 OK")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    service = FakeSmtpService(host="127.0.0.1", port=server.server_address[1])
    with _serving(server, release=service.hang):
        yield service


ROOT = Path(__file__).resolve().parent.parent


@dataclass
class LiveGunicorn:
    """A gunicorn serving the project on 127.0.0.1, as production runs it."""

    process: subprocess.Popen[str]
    url: str
    workers: list[int]

    def request(
        self, path: str, *, body: dict[str, Any] | None = None, timeout: float = 30
    ) -> tuple[int, Any]:
        """(status, JSON body or raw bytes) of a GET, or a POST of `body`."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path, data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw


@contextmanager
def live_gunicorn(
    *, env: dict[str, str], workers: int = 1, config: Path | None = None, stdout: Any = None
) -> Iterator[LiveGunicorn]:
    """Start gunicorn with `workers` on a free port, the settings from `env` on top of a
    clean environment (no developer .env, no test settings), and stop it afterwards."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "PYTEST_", "APP_ENV"))
    }
    environment.update(
        DJANGO_ENV_FILE=os.devnull,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        **env,
    )
    command = [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi"]
    command += ["-w", str(workers), "-b", "127.0.0.1:0"]
    if config is not None:
        command += ["-c", str(config)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdout=stdout if stdout is not None else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url, pids = None, []
        assert process.stderr is not None
        for line in process.stderr:  # ends if gunicorn dies; each line comes within seconds
            if found := re.search(r"Listening at: (http://\S+)", line):
                url = found[1]
            if found := re.search(r"Booting worker with pid: (\d+)", line):
                pids.append(int(found[1]))
            if url and len(pids) == workers:
                break
        assert url and len(pids) == workers, "gunicorn did not start"
        yield LiveGunicorn(process, url, pids)
    finally:
        process.terminate()
        process.wait(timeout=60)


@contextmanager
def tcp_proxy(host: str, port: int) -> Iterator[Callable[[bool], None]]:
    """tests/tcp_proxy.py in front of host:port; yields `freeze(True|False)`, which stops
    (SIGSTOP) or resumes (SIGCONT) the proxy process, and its port as `freeze.port`."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "tcp_proxy.py"), host, str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    proxy_port = int(process.stdout.readline())

    def freeze(frozen: bool) -> None:
        os.kill(process.pid, signal.SIGSTOP if frozen else signal.SIGCONT)

    freeze.port = proxy_port  # type: ignore[attr-defined]
    try:
        yield freeze
    finally:
        freeze(False)
        process.kill()
        process.wait(timeout=10)
