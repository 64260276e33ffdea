"""nginx/templates/default.conf.template, rendered with envsubst as the official nginx image
renders it, run by real nginx in front of real gunicorn (config/gunicorn.py, production
settings, static files from collectstatic) on Postgres and Redis: the compose stack's front
half, on loopback.

CI installs nginx and sets NGINX_SMOKE=1, which turns a missing nginx into a failure; a
machine without nginx skips this module.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "nginx" / "templates" / "default.conf.template"
TEMPLATE_VARIABLES = "${APP_UPSTREAM} ${STATIC_ROOT} ${NGINX_PORT}"
STARTUP_SECONDS = 60
SMOKE_REQUIRED = os.environ.get("NGINX_SMOKE") == "1"
GENERATED_ID = re.compile(r"[0-9a-f]{32}")
ADMIN_CSS = "admin/css/base.css"

# What the official image's /etc/nginx/nginx.conf keeps around conf.d; every path that
# nginx writes is under this run's own folder, so no root and no system nginx is needed.
MAIN_CONF = """\
worker_processes 1;
pid {run}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    client_body_temp_path {run}/client_body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    include {run}/conf.d/*.conf;
}}
"""

pytestmark = pytest.mark.xdist_group("nginx")


def _unavailable(reason: str) -> None:
    if SMOKE_REQUIRED:
        pytest.fail(f"NGINX_SMOKE=1 but {reason}")
    pytest.skip(reason)


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def request_ids(self) -> list[str]:
        return self.headers.get_all("X-Request-ID") or []


@dataclass
class Server:
    """A process listening on 127.0.0.1:port, its output in files."""

    process: subprocess.Popen[bytes]
    port: int
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # graceful for gunicorn, fast for nginx
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_entries(self) -> list[dict[str, Any]]:
        """The JSON lines of stdout (the access log); other lines are left out."""
        entries = []
        for line in self.stdout.read_text().splitlines():
            if line.startswith("{"):
                entries.append(json.loads(line))
        return entries

    def log_entry(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first access-log entry matching `predicate`. A server writes it once the
        response has gone out, so it may lag the answer the test already holds."""
        deadline = time.monotonic() + 10
        while True:
            for entry in self.log_entries():
                if predicate(entry):
                    return entry
            if time.monotonic() > deadline:
                raise AssertionError(f"no such log entry in:\n{self.stdout.read_text()}")
            time.sleep(0.05)


def fetch(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str | bytes] | None = None,
    body: bytes | None = None,
) -> Answer:
    """One request over a fresh connection, nothing added (no Accept-Encoding)."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        client.request(method, path, body=body, headers=headers or {})
        response = client.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        client.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(command: list[str], *, env: dict[str, str], port: int, name: str, run: Path) -> Server:
    """Start `command` and return once it accepts connections on `port` (polled)."""
    stdout, stderr = run / f"{name}.out", run / f"{name}.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)
    server = Server(process, port, stdout, stderr)
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited with {process.returncode}:\n{server.output()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise AssertionError(f"{name} is not listening:\n{server.output()}") from None
            time.sleep(0.05)


def _base_environment() -> dict[str, str]:
    """This environment less every setting (the test run's own are not production's)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "APP_ENV", "DATABASE_URL", "REDIS_URL", "SMS_"))
    }
    environment["DJANGO_ENV_FILE"] = os.devnull
    return environment


def _database_url() -> str:
    """The URL of the test database pytest-django made, for another process."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(str(db['PASSWORD']), safe='')}" if db["PASSWORD"] else ""
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(db['NAME'], safe='')}"


@dataclass
class Stack:
    run: Path
    static_root: Path
    gunicorn: Server
    nginx: Server

    def fetch(self, method: str, path: str, **kwargs: Any) -> Answer:
        return fetch(self.nginx.port, method, path, **kwargs)

    def upstream_entry(self, request_id: str) -> dict[str, Any]:
        """gunicorn's access-log entry for the request nginx sent on with this id."""
        return self.gunicorn.log_entry(
            lambda e: e.get("logger") == "gunicorn.access" and e.get("request_id") == request_id
        )

    def hashed_name(self, name: str) -> str:
        manifest = json.loads((self.static_root / "staticfiles.json").read_text())
        return str(manifest["paths"][name])


def _nginx(run: Path, *, upstream: str, static_root: Path, name: str) -> Server:
    """Render the template for `upstream`, check it with `nginx -t`, start nginx."""
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        _unavailable("nginx is not installed (apt-get install nginx)")
    envsubst = shutil.which("envsubst")
    if envsubst is None:
        _unavailable("envsubst is not installed (apt-get install gettext-base)")
    assert binary is not None and envsubst is not None

    prefix = run / name
    (prefix / "conf.d").mkdir(parents=True)
    port = _free_port()
    rendered = subprocess.run(
        [envsubst, TEMPLATE_VARIABLES],
        input=TEMPLATE.read_text(),
        env={
            "APP_UPSTREAM": upstream,
            "STATIC_ROOT": str(static_root),
            "NGINX_PORT": str(port),
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (prefix / "conf.d" / "default.conf").write_text(rendered)
    (prefix / "nginx.conf").write_text(MAIN_CONF.format(run=prefix))
    command = [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
    command += ["-e", str(prefix / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    return _start(
        [*command, "-g", "daemon off;"], env=_base_environment(), port=port, name=name, run=run
    )


@pytest.fixture(scope="module")
def run_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: its folders are private to this user, and nginx's workers run
    # as `nobody` when the tests run as root (CI).
    run = Path(tempfile.mkdtemp(prefix="referral-nginx-"))
    run.chmod(0o755)
    yield run
    shutil.rmtree(run, ignore_errors=True)


@pytest.fixture(scope="module")
def static_root(run_dir: Path) -> Path:
    """collectstatic's output as the image builds it: hashed names, a manifest, .gz files."""
    root = run_dir / "static"
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env={
            **_base_environment(),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_STATIC_ROOT": str(root),
            "DJANGO_STATIC_MANIFEST": "true",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert collected.returncode == 0, collected.stderr
    return root


@pytest.fixture(scope="module")
def stack(
    django_db_setup: None, django_db_blocker: Any, run_dir: Path, static_root: Path
) -> Iterator[Stack]:
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            _unavailable("the smoke test runs gunicorn on Postgres (set DATABASE_URL)")
        database_url = _database_url()
    environment = {
        **_base_environment(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "APP_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        # No mail goes out here; production starts without SMTP only when told so.
        "EMAIL_BACKEND": "console",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_NUM_PROXIES": "1",
        "DJANGO_STATIC_ROOT": str(static_root),
        "DJANGO_STATIC_MANIFEST": "true",
        "DATABASE_URL": database_url,
        # Production refuses to start without an SMS gateway; no request here sends one.
        "SMS_BACKEND": "http",
        "SMS_HTTP_URL": "http://127.0.0.1:9/",
        "PYTHONUNBUFFERED": "1",
    }
    if os.environ.get("REDIS_URL"):
        environment["REDIS_URL"] = os.environ["REDIS_URL"]
    port = _free_port()
    bind = f"127.0.0.1:{port}"
    gunicorn = _start(
        [sys.executable, "-m", "gunicorn", "--config", "config/gunicorn.py", "--bind", bind],
        env={**environment, "WEB_CONCURRENCY": "2"},
        port=port,
        name="gunicorn",
        run=run_dir,
    )
    try:
        nginx = _nginx(run_dir, upstream=f"127.0.0.1:{port}", static_root=static_root, name="nginx")
    except BaseException:
        gunicorn.stop()
        raise
    yield Stack(run_dir, static_root, gunicorn, nginx)
    nginx.stop()
    gunicorn.stop()


@pytest.fixture(scope="module")
def lone_nginx(run_dir: Path, static_root: Path) -> Iterator[Server]:
    """The same nginx with its upstream down: nothing listens on the port it proxies to."""
    nginx = _nginx(
        run_dir, upstream=f"127.0.0.1:{_free_port()}", static_root=static_root, name="lone"
    )
    yield nginx
    nginx.stop()


def envelope(status_type: str, code: str, detail: str) -> dict[str, Any]:
    return {"type": status_type, "errors": [{"code": code, "detail": detail, "attr": None}]}


class TestProxy:
    def test_answers_the_healthcheck(self, stack: Stack) -> None:
        answer = stack.fetch("GET", "/api/healthcheck/")

        assert answer.status == 200, answer.body
        assert answer.json()["status"] == "ok"

    def test_registers_a_user(self, stack: Stack, transactional_db: None) -> None:
        payload = {"email": "nginx-smoke@example.com", "password": "s3cret-Passw0rd!"}

        answer = stack.fetch(
            "POST",
            "/api/users/",
            headers={"Content-Type": "application/json"},
            body=json.dumps(payload).encode(),
        )

        assert answer.status == 201, answer.body
        assert answer.json()["email"] == "nginx-smoke@example.com"

    def test_passes_the_host_as_the_client_sent_it(self, stack: Stack) -> None:
        # Django answers a Host outside DJANGO_ALLOWED_HOSTS with 400: nginx must not
        # replace the client's Host with its own.
        answer = stack.fetch("GET", "/api/healthcheck/", headers={"Host": "scanner.example"})

        assert answer.status == 400
        assert answer.json()["errors"][0]["code"] == "bad_request"

    def test_appends_the_peer_to_x_forwarded_for(self, stack: Stack) -> None:
        # With DJANGO_NUM_PROXIES=1 the app trusts the last entry only: the one nginx added.
        request_id = "forwarded-" + secrets.token_hex(8)

        stack.fetch(
            "GET",
            "/api/healthcheck/",
            headers={"X-Request-ID": request_id, "X-Forwarded-For": "203.0.113.9"},
        )

        entry = stack.upstream_entry(request_id)
        assert entry["forwarded_for"] == "203.0.113.9, 127.0.0.1"

    def test_compresses_json_when_asked(self, stack: Stack) -> None:
        answer = stack.fetch("GET", "/api/schema/?format=json", headers={"Accept-Encoding": "gzip"})

        assert answer.status == 200
        assert answer.headers["Content-Encoding"] == "gzip"
        assert "openapi" in json.loads(gzip.decompress(answer.body))

    def test_sends_json_uncompressed_when_not_asked(self, stack: Stack) -> None:
        answer = stack.fetch("GET", "/api/schema/?format=json")

        assert answer.headers["Content-Encoding"] is None
        assert "openapi" in answer.json()

    def test_lets_a_request_line_over_gunicorns_default_through(self, stack: Stack) -> None:
        # gunicorn's own default (4 KiB) would answer HTML; its limits sit above nginx's.
        answer = stack.fetch("GET", "/api/healthcheck/?pad=" + "a" * 5000)

        assert answer.status == 200

    def test_lets_a_header_up_to_its_limit_through(self, stack: Stack) -> None:
        answer = stack.fetch("GET", "/api/healthcheck/", headers={"X-Pad": "a" * 6000})

        assert answer.status == 200


class TestRequestId:
    def test_keeps_a_sane_id_both_ways(self, stack: Stack) -> None:
        request_id = "client-" + secrets.token_hex(8) + "_1.2"

        answer = stack.fetch("GET", "/api/healthcheck/", headers={"X-Request-ID": request_id})

        assert answer.request_ids() == [request_id]
        assert stack.upstream_entry(request_id)

    @pytest.mark.parametrize(
        "insane",
        ["has space", "semi;colon", 'quo"te', "x" * 129, "кириллица".encode()],
        ids=["space", "semicolon", "quote", "too-long", "utf-8"],
    )
    def test_replaces_an_insane_id_with_its_own(self, stack: Stack, insane: str | bytes) -> None:
        pad = secrets.token_hex(8)  # finds this request's line in gunicorn's log

        answer = stack.fetch("GET", f"/api/healthcheck/?{pad}", headers={"X-Request-ID": insane})

        [request_id] = answer.request_ids()
        assert GENERATED_ID.fullmatch(request_id)
        nginx_entry = stack.nginx.log_entry(lambda e: e["request_id"] == request_id)
        assert nginx_entry["path"] == "/api/healthcheck/"
        assert stack.upstream_entry(request_id)

    def test_makes_one_when_there_is_none(self, stack: Stack) -> None:
        first = stack.fetch("GET", "/api/healthcheck/")
        second = stack.fetch("GET", "/api/healthcheck/")

        assert GENERATED_ID.fullmatch(first.request_ids()[0])
        assert first.request_ids() != second.request_ids()

    def test_is_on_nginxs_own_answers(self, stack: Stack) -> None:
        answer = stack.fetch("GET", "/metrics", headers={"X-Request-ID": "own-answer"})

        assert answer.request_ids() == ["own-answer"]

    def test_is_on_static_files(self, stack: Stack) -> None:
        answer = stack.fetch("GET", f"/static/{ADMIN_CSS}", headers={"X-Request-ID": "static-file"})

        assert answer.request_ids() == ["static-file"]


class TestOwnAnswers:
    def test_refuses_a_body_over_1_mib_in_the_envelope(self, stack: Stack) -> None:
        request_id = "big-body-" + secrets.token_hex(8)

        answer = stack.fetch(
            "POST",
            "/api/users/",
            headers={"Content-Type": "application/json", "X-Request-ID": request_id},
            body=b"x" * (2 * 1024 * 1024),
        )

        assert answer.status == 413
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.json() == envelope(
            "client_error", "payload_too_large", "Request body is larger than 1 MiB."
        )
        nginx_entry = stack.nginx.log_entry(lambda e: e["request_id"] == request_id)
        assert nginx_entry["upstream"] == ""  # never reached the app

    def test_answers_in_russian_when_asked(self, stack: Stack) -> None:
        answer = stack.fetch("GET", "/metrics", headers={"Accept-Language": "ru-RU,ru;q=0.9"})

        assert answer.json() == envelope("client_error", "not_found", "Не найдено.")

    @pytest.mark.parametrize("path", ["/metrics", "/metrics/", "/metrics/extra", "//metrics"])
    def test_hides_the_metrics(self, stack: Stack, path: str) -> None:
        request_id = "metrics-" + secrets.token_hex(8)

        answer = stack.fetch("GET", path, headers={"X-Request-ID": request_id})

        assert answer.status == 404
        assert answer.json() == envelope("client_error", "not_found", "Not found.")
        nginx_entry = stack.nginx.log_entry(lambda e: e["request_id"] == request_id)
        assert nginx_entry["upstream"] == ""  # nginx's answer, not the app's

    def test_refuses_a_long_request_line_in_the_envelope(self, stack: Stack) -> None:
        answer = stack.fetch("GET", "/api/healthcheck/?pad=" + "a" * 7000)

        assert answer.status == 414
        assert answer.json()["errors"][0]["code"] == "uri_too_long"

    def test_refuses_a_long_header_in_the_envelope(self, stack: Stack) -> None:
        answer = stack.fetch("GET", "/api/healthcheck/", headers={"X-Pad": "a" * 7000})

        assert answer.status == 400
        assert answer.json()["errors"][0]["code"] == "request_header_too_large"

    def test_refuses_a_malformed_request_in_the_envelope(self, stack: Stack) -> None:
        with socket.create_connection(("127.0.0.1", stack.nginx.port), timeout=10) as raw:
            raw.sendall(b"NOT HTTP\r\n\r\n")
            reply = b""
            while chunk := raw.recv(65536):
                reply += chunk

        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 ")
        assert json.loads(body)["errors"][0]["code"] == "bad_request"


class TestStaticFiles:
    def test_serves_an_admin_file_itself(self, stack: Stack) -> None:
        answer = stack.fetch("GET", f"/static/{ADMIN_CSS}")

        assert answer.status == 200
        assert answer.headers["Content-Type"] == "text/css"
        assert answer.headers["Cache-Control"] == "public, max-age=300"
        assert answer.body == (stack.static_root / ADMIN_CSS).read_bytes()

    def test_keeps_hashed_names_for_a_year(self, stack: Stack) -> None:
        answer = stack.fetch("GET", f"/static/{stack.hashed_name(ADMIN_CSS)}")

        assert answer.status == 200
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"

    def test_sends_the_precompressed_file_when_asked(self, stack: Stack) -> None:
        name = stack.hashed_name(ADMIN_CSS)

        answer = stack.fetch("GET", f"/static/{name}", headers={"Accept-Encoding": "gzip"})

        assert answer.headers["Content-Encoding"] == "gzip"
        assert answer.body == (stack.static_root / f"{name}.gz").read_bytes()

    def test_answers_a_missing_file_in_the_envelope(self, stack: Stack) -> None:
        answer = stack.fetch("GET", "/static/admin/css/missing.css")

        assert answer.status == 404
        assert answer.headers["Cache-Control"] is None
        assert answer.json()["errors"][0]["code"] == "not_found"

    def test_serves_swagger_ui_and_every_asset_it_loads(self, stack: Stack) -> None:
        page = stack.fetch("GET", "/api/schema/swagger-ui/")
        assets = re.findall(r"""(?:src|href)=["'](/static/[^"'?]+)""", page.body.decode())
        fetched = {path: stack.fetch("GET", path) for path in assets}

        assert page.status == 200
        assert len(assets) >= 3  # the bundle, the preset and the stylesheet at least
        assert {path: answer.status for path, answer in fetched.items()} == dict.fromkeys(
            assets, 200
        )
        assert all(
            answer.headers["Cache-Control"].endswith("immutable") for answer in fetched.values()
        )

    def test_answers_with_the_upstream_down(self, lone_nginx: Server) -> None:
        answer = fetch(lone_nginx.port, "GET", f"/static/{ADMIN_CSS}")

        assert answer.status == 200
        assert answer.headers["Content-Type"] == "text/css"

    def test_the_api_answers_503_in_the_envelope_with_the_upstream_down(
        self, lone_nginx: Server
    ) -> None:
        answer = fetch(lone_nginx.port, "GET", "/api/healthcheck/")

        assert answer.status == 503
        assert answer.json()["errors"][0]["code"] == "service_unavailable"


class TestAccessLog:
    def test_logs_one_json_line_per_request_without_the_query(self, stack: Stack) -> None:
        request_id = "logged-" + secrets.token_hex(8)

        stack.fetch("GET", "/api/healthcheck/?token=hunter2", headers={"X-Request-ID": request_id})

        entry = stack.nginx.log_entry(lambda e: e["request_id"] == request_id)
        upstream = stack.upstream_entry(request_id)
        assert (entry["method"], entry["path"], entry["status"]) == (
            "GET",
            "/api/healthcheck/",
            200,
        )
        assert entry["upstream"] == f"127.0.0.1:{stack.gunicorn.port}"
        assert (upstream["path"], upstream["status"]) == ("/api/healthcheck/", 200)
        assert "hunter2" not in stack.nginx.stdout.read_text()
        assert "hunter2" not in stack.gunicorn.stdout.read_text()
