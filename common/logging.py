"""Log lines as JSON objects, one per line, with no personal data or secrets in them.

Every line has `time` (UTC, ISO 8601), `level`, `logger`, `message`, `request_id` (null
outside a request; django-guid's filter sets it) and the record's `extra` fields.
`RedactingFilter` masks emails, phones, tokens, API keys and one-time codes in the
message, its arguments, the extra fields and the traceback before any handler writes.

`DependencyFailureLog` logs an outage of a dependency (database, cache) once per kind
per interval, with the count of the failures it kept quiet since, instead of a traceback
for every request that met it.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

# What no line shows, not collected for each record (the logging HOWTO's "Optimization"):
# the caller's frame, thread and process names.
logging._srcfile = None
logging.logThreads = False
logging.logProcesses = False
logging.logMultiprocessing = False


class JsonFormatter(BaseJsonFormatter):
    """python-json-logger's formatter with the field names and time format above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", *args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def logging_config(*, level: str, file: str = "") -> dict[str, Any]:
    """settings.LOGGING: JSON lines on stdout, and appended to `file` too when given
    (reopened when logrotate moves it), with the request id and masking on every line."""
    filters = ["request_id", "redact"]
    handlers: dict[str, Any] = {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": filters,
        },
        "discard": {"class": "logging.NullHandler"},  # no handler at all: stderr anyway
    }
    if file:
        handlers["file"] = {
            "class": "logging.handlers.WatchedFileHandler",
            "filename": file,
            "formatter": "json",
            "filters": filters,
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {
                "()": "django_guid.log_filters.CorrelationId",
                "correlation_id_field": "request_id",
            },
            "redact": {"()": "common.logging.RedactingFilter"},
        },
        "formatters": {"json": {"()": "common.logging.JsonFormatter"}},
        "handlers": handlers,
        "root": {"handlers": ["console", *(["file"] if file else [])], "level": level},
        "loggers": {
            # Django's own configuration gives its loggers a plain-text handler of their
            # own (with DJANGO_DEBUG on) and its own level: they go through ours instead.
            "django": {"handlers": [], "level": level, "propagate": True},
            "django.server": {"handlers": [], "level": level, "propagate": True},
            # Scanners send any Host to a public address; each refusal would log a
            # traceback. They are still answered 400 (and show in the access log).
            "django.security.DisallowedHost": {"handlers": ["discard"], "propagate": False},
            # Every answer has its `access` line; Django's own warning per 4xx would
            # repeat it. Errors (5xx) are still logged with their traceback.
            "django.request": {"level": "ERROR"},
            # django-guid narrates every request at INFO ("header not found, generated").
            "django_guid": {"level": "WARNING"},
        },
    }


# --- Masking ----------------------------------------------------------------------------

REDACTED = "[redacted]"
# A field (extra, or a key in a dict argument) whose whole value is a secret, by name:
# the name or one of its _-separated parts.
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:password|passwd|secret|token|access|refresh|authorization|cookie|"
    r"api_?key|key|otp|uid|signature)(?:$|_)",
    re.IGNORECASE,
)
# A field that may hold a one-time code: its value is masked when it is 4-8 digits.
_CODE_NAME = re.compile(r"(?:^|_)(?:code|otp|pin)(?:$|_)", re.IGNORECASE)
_ONE_TIME_CODE = re.compile(r"\d{4,8}")
# Fields whose whole value is personal data, by name.
_EMAIL_NAME = re.compile(r"(?:^|_)e?mail(?:$|_)", re.IGNORECASE)
_PHONE_NAME = re.compile(r"(?:^|_)(?:phone|msisdn)(?:$|_)", re.IGNORECASE)

# In free text, one pass of one pattern; each alternative is a named group.
_SENSITIVE_TEXT = re.compile(
    "|".join(
        [
            # A JSON Web Token (header.payload.signature, base64url): access, refresh.
            r"(?P<jwt>\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*)",
            # djangorestframework-api-key's keys: an 8-character prefix, a dot, 32 more.
            r"(?P<api_key>\b[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}\b)",
            # Django's password-reset tokens: a base-36 timestamp, a dash, 32 hex digits.
            r"(?P<reset_token>\b[0-9a-z]{1,13}-[0-9a-f]{32}\b)",
            # key=value or "key": "value" where the key names a secret.
            r"(?P<secret_pair>(?P<secret_key>\b(?:password|passwd|secret|token|access|"
            r"refresh|api[_-]?key|otp|uid)\b[\"']?\s*[:=]\s*[\"']?)(?P<secret_value>[^\s\"',;&)}]+))",
            # key=1234 or "code": "123456": a one-time code of 4-8 digits.
            r"(?P<code_pair>(?P<code_key>\b(?:\w*_)?(?:code|otp|pin)\b[\"']?\s*[:=]\s*[\"']?)"
            r"(?P<code_value>\d{4,8})\b)",
            # An email address: first character and domain kept.
            r"(?P<email>\b(?P<email_first>[\w.+-])[\w.+-]*@(?P<email_domain>[\w-]+(?:\.[\w-]+)+))",
            # A phone number in international notation (E.164, or spaced, dashed, bracketed).
            r"(?P<phone>(?<![\w+-])\+\d[\d ()-]{8,18}\d(?![\w-]))",
        ]
    ),
    re.IGNORECASE,
)


def mask_email(value: str) -> str:
    """`anna@example.com` -> `a***@example.com`."""
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}" if domain else REDACTED


def mask_phone(value: str) -> str:
    """`+79991234567` -> `+7999***67`: country and operator, and the last two digits."""
    digits = re.sub(r"\D", "", value)
    if len(digits) < 7:
        return "***"
    return ("+" if value.lstrip().startswith("+") else "") + digits[:4] + "***" + digits[-2:]


def _replace(match: re.Match[str]) -> str:
    kind = match.lastgroup
    if kind == "email":
        return f"{match['email_first']}***@{match['email_domain']}"
    if kind == "phone":
        return mask_phone(match["phone"])
    if kind == "secret_pair":
        return match["secret_key"] + REDACTED
    if kind == "code_pair":
        return match["code_key"] + "***"
    return REDACTED


def mask_text(text: str) -> str:
    """`text` with every email, phone, token, API key and one-time code in it masked."""
    return _SENSITIVE_TEXT.sub(_replace, text)


@functools.cache
def _name_kind(name: str) -> str:
    """What a field's name says about its value (the same few names come again and again)."""
    for kind, pattern in (
        ("secret", _SECRET_NAME),
        ("code", _CODE_NAME),
        ("email", _EMAIL_NAME),
        ("phone", _PHONE_NAME),
    ):
        if pattern.search(name):
            return kind
    return ""


def mask_value(name: str, value: Any) -> Any:
    """A field's value as it may be logged: by the field's name first (a password, a
    token, an email), else by what the value looks like; containers recursively."""
    if value is None or value == "":
        return value
    kind = _name_kind(name)
    if kind == "secret":
        return REDACTED
    if kind == "code" and _ONE_TIME_CODE.fullmatch(str(value)):
        return "***"
    if isinstance(value, str):
        if kind == "email" and "@" in value:
            return mask_email(value)
        if kind == "phone" and sum(character.isdigit() for character in value) >= 7:
            return mask_phone(value)
        return mask_text(value)
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {key: mask_value(str(key), item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(mask_value(name, item) for item in value)
    return value


class RedactingFilter(logging.Filter):
    """Masks personal data and secrets in a record before it is written (module
    docstring): the message with its arguments, every extra field, and the traceback,
    which is rendered here so that its text can be masked too."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_text(record.getMessage())
        record.args = None
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRIBUTES and not name.startswith("_"):
                setattr(record, name, mask_value(name, value))
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = _TRACEBACKS.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


_TRACEBACKS = logging.Formatter()


# --- Dependency outages -----------------------------------------------------------------


@dataclass
class _Outage:
    logged_at: float
    suppressed: int = 0


class DependencyFailureLog:
    """Logs the failures of each kind of dependency at most once per `interval` seconds
    (a callable, so that the setting is read when it is used). The line that ends a
    quiet spell says how many failures were not logged during it."""

    def __init__(self, *, logger: logging.Logger, interval: Callable[[], float]) -> None:
        self._logger = logger
        self._interval = interval
        self._outages: dict[str, _Outage] = {}
        self._lock = threading.Lock()

    def record(self, *, kind: str, error: BaseException, now: float) -> bool:
        """Count one failure of `kind` at monotonic time `now`; log it if no failure of
        that kind was logged in the last interval. Returns whether it was logged."""
        with self._lock:
            outage = self._outages.get(kind)
            if outage is not None and now - outage.logged_at < self._interval():
                outage.suppressed += 1
                return False
            suppressed = outage.suppressed if outage is not None else 0
            self._outages[kind] = _Outage(logged_at=now)
        self._logger.error(
            "Dependency unavailable: %s",
            kind,
            exc_info=error,
            extra={"dependency": kind, "suppressed_since_last": suppressed},
        )
        return True


def _failure_interval() -> float:
    from django.conf import settings

    return float(settings.LOG_DEPENDENCY_FAILURE_SECONDS)


dependency_failures = DependencyFailureLog(
    logger=logging.getLogger("common.dependencies"), interval=_failure_interval
)
