"""SMS_BACKEND as the settings read it: short names, and production's refusal of the
backends that print or keep codes unless the operator chose one on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import LONG_KEY, run_python

# With the mail server production also requires (tests/test_email_settings.py).
PRODUCTION = {
    "APP_ENV": "production",
    "DJANGO_SECRET_KEY": LONG_KEY,
    "EMAIL_HOST": "smtp.example.com",
}


def sms_backend(**env: str) -> tuple[int, str, str]:
    """(exit status, SMS_BACKEND as loaded, stderr) of config.settings under `env`."""
    loaded = run_python("from config import settings as s; print(s.SMS_BACKEND)", **env)
    return loaded.returncode, loaded.stdout.strip(), loaded.stderr


def test_the_default_is_the_console_backend() -> None:
    assert sms_backend()[:2] == (0, "users.sms.ConsoleSmsBackend")


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("console", "users.sms.ConsoleSmsBackend"),
        ("locmem", "users.sms.LocmemSmsBackend"),
        ("http", "users.sms.HttpSmsBackend"),
    ],
)
def test_short_names_pick_a_backend(name: str, path: str) -> None:
    loaded = sms_backend(SMS_BACKEND=name, SMS_HTTP_URL="https://sms.example/send")

    assert loaded[:2] == (0, path)


def test_refuses_an_unknown_name() -> None:
    status, _, stderr = sms_backend(SMS_BACKEND="carrier-pigeon")

    assert status != 0
    assert "ImproperlyConfigured" in stderr and "SMS_BACKEND" in stderr


def test_the_http_backend_needs_a_url() -> None:
    status, _, stderr = sms_backend(SMS_BACKEND="http")

    assert status != 0
    assert "SMS_HTTP_URL" in stderr


def test_production_refuses_to_start_with_the_default_console_backend() -> None:
    status, _, stderr = sms_backend(**PRODUCTION)

    assert status != 0
    assert "ImproperlyConfigured" in stderr and "SMS_BACKEND" in stderr


@pytest.mark.parametrize("name", ["console", "locmem"])
def test_production_accepts_a_printing_backend_set_explicitly(name: str) -> None:
    assert sms_backend(SMS_BACKEND=name, **PRODUCTION)[0] == 0


def test_production_accepts_the_backend_from_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / "production.env"
    env_file.write_text("SMS_BACKEND=console\n")

    assert sms_backend(DJANGO_ENV_FILE=str(env_file), **PRODUCTION)[0] == 0


def test_production_runs_with_the_http_gateway() -> None:
    loaded = sms_backend(SMS_BACKEND="http", SMS_HTTP_URL="https://sms.example/send", **PRODUCTION)

    assert loaded[:2] == (0, "users.sms.HttpSmsBackend")
