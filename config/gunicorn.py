"""gunicorn's settings: `gunicorn -c config/gunicorn.py` (the image, compose, CI's smoke test).

The command line and GUNICORN_CMD_ARGS still win over this file (`--bind`, `--timeout`).
Every line gunicorn itself writes is one JSON object: the access log on stdout, its own
messages on stderr.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime
from typing import Any

from gunicorn.glogging import Logger

wsgi_app = "config.wsgi:application"
bind = ["0.0.0.0:8000"]

# Sync workers, one request at a time each: nginx buffers slow clients and large bodies, so
# a worker only ever waits on Postgres, Redis or an outbound call with its own timeout.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# A worker silent this long is killed and replaced. On SIGTERM, requests in flight get
# graceful_timeout to finish; compose's stop_grace_period is longer than that.
timeout = 30
graceful_timeout = 30
# The workers' heartbeat file on tmpfs: on the container's overlay disk an fsync stall
# there can make the arbiter kill a healthy worker. (gunicorn makes the file with mkstemp.)
_TMPFS = "/dev/shm"  # noqa: S108
worker_tmp_dir = _TMPFS if os.path.isdir(_TMPFS) else None
# Nothing uses gunicornc, and servers started side by side (the tests) would share its
# socket's default path in $HOME.
control_socket_disable = True

# nginx refuses oversized requests first, in the API's error envelope: its request line and
# each header line are at most 6 KiB (nginx/templates/default.conf.template). gunicorn's own
# refusals are HTML pages, so its limits sit above nginx's: the longest request line it
# takes, header lines of 16 KiB, and as many of them as it allows (nginx bounds their total).
limit_request_line = 8190
limit_request_field_size = 16 * 1024
limit_request_fields = 32768

accesslog = "-"
errorlog = "-"

# The rule the app and nginx apply to a client's X-Request-ID.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, and the
    fields a record carries in `json_fields`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "json_fields", {}),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class JsonLogger(Logger):
    """gunicorn's logger with JSON lines instead of its text formats. An access line has the
    request id, method, path (never the query string, which may carry secrets), status,
    duration, response size, peer (nginx) and X-Forwarded-For, and the worker's pid."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        # "200 OK", or None when the app raised before it started a response.
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        fields = {
            "request_id": _request_id(resp.headers, environ),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": int(status) if status is not None else None,
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "bytes": getattr(resp, "sent", None),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
            "pid": os.getpid(),
        }
        self.access_log.info("request", extra={"json_fields": fields})


def _request_id(response_headers: list[tuple[str, str]], environ: dict[str, Any]) -> str | None:
    """The id the app answered with, else the one nginx (or a client) sent if it is sane."""
    for name, value in response_headers:
        if name.lower() == "x-request-id":
            return value
    sent = environ.get("HTTP_X_REQUEST_ID", "")
    return sent if SANE_REQUEST_ID.fullmatch(sent) else None


logger_class = JsonLogger

# prometheus_client's multiprocess mode (/metrics adds up every worker): the metrics folder
# emptied, or made, before the first worker starts, and each ended worker forgotten.
from common.gunicorn_hooks import child_exit, on_starting  # noqa: E402, F401
