"""Production never mails into its log by default: the console (or locmem) backend only
when EMAIL_BACKEND names it; read in a fresh interpreter, like tests/test_settings.py."""

from __future__ import annotations

import pytest

from tests.helpers import LONG_KEY, run_python

# With the SMS gateway production also requires (tests/test_sms_settings.py).
PRODUCTION = {
    "APP_ENV": "production",
    "DJANGO_SECRET_KEY": LONG_KEY,
    "SMS_BACKEND": "http",
    "SMS_HTTP_URL": "https://sms.example/send",
}


def email_backend(**env: str) -> tuple[int, str, str]:
    ran = run_python("from config import settings as s; print(s.EMAIL_BACKEND)", **env)
    return ran.returncode, ran.stdout.strip(), ran.stderr


@pytest.mark.parametrize("env", [{}, {"EMAIL_HOST": ""}])
def test_production_without_a_mail_server_refuses_to_start(env: dict[str, str]) -> None:
    returncode, _stdout, stderr = email_backend(**PRODUCTION, **env)

    assert returncode != 0
    assert "ImproperlyConfigured" in stderr and "EMAIL_HOST" in stderr


@pytest.mark.parametrize("name", ["console", "locmem"])
def test_production_prints_mail_only_when_asked_by_name(name: str) -> None:
    returncode, backend, _stderr = email_backend(**PRODUCTION, EMAIL_BACKEND=name)

    assert returncode == 0
    assert backend.endswith("EmailBackend") and name in backend.lower()


def test_the_console_backend_is_ours_which_masks_in_production() -> None:
    _returncode, backend, _stderr = email_backend(**PRODUCTION, EMAIL_BACKEND="console")

    assert backend == "common.email_backends.ConsoleEmailBackend"


def test_production_with_a_mail_server_uses_smtp() -> None:
    returncode, backend, _stderr = email_backend(**PRODUCTION, EMAIL_HOST="smtp.example.com")

    assert (returncode, backend) == (0, "django.core.mail.backends.smtp.EmailBackend")


def test_development_without_a_mail_server_prints_to_the_console() -> None:
    returncode, backend, _stderr = email_backend()

    assert (returncode, backend) == (0, "common.email_backends.ConsoleEmailBackend")


def test_an_unknown_backend_name_is_refused() -> None:
    returncode, _stdout, stderr = email_backend(EMAIL_BACKEND="carrier-pigeon")

    assert returncode != 0
    assert "EMAIL_BACKEND must be one of smtp, console, locmem" in stderr
