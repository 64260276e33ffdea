"""What the settings refuse, switch on or silence, read in a fresh interpreter (the test
run's own settings are already loaded)."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers import LONG_KEY, run_python


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Import config.settings; prints the settings the tests read."""
    return run_python(
        "from config import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)",
        **env,
    )


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "changeme"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "django-insecure-" + LONG_KEY}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": LONG_KEY, "DJANGO_DEBUG": "true"}, "DJANGO_DEBUG"),
        ({"DJANGO_SECRET_KEY": LONG_KEY, "JWT_SIGNING_KEY": "short"}, "JWT_SIGNING_KEY"),
    ],
)
def test_production_refuses_weak_settings(env: dict[str, str], complaint: str) -> None:
    loaded = load_settings(APP_ENV="production", **env)

    assert loaded.returncode != 0
    assert "ImproperlyConfigured" in loaded.stderr and complaint in loaded.stderr


def test_production_sends_cookies_over_https_only() -> None:
    loaded = load_settings(
        APP_ENV="production",
        DJANGO_SECRET_KEY=LONG_KEY,
        EMAIL_HOST="smtp.example.com",
        SMS_BACKEND="http",
        SMS_HTTP_URL="https://sms.example/send",
    )

    assert (loaded.returncode, loaded.stdout.split()) == (0, ["True", "True", "0"])


def test_local_development_keeps_plain_http_cookies() -> None:
    loaded = load_settings()

    assert (loaded.returncode, loaded.stdout.split()) == (0, ["False", "False", "0"])


def test_a_host_not_allowed_is_answered_without_an_error_log() -> None:
    """Scanners send any Host; the 400 must not come with a logged traceback each time."""
    ran = run_python(
        "import django; django.setup(); from django.test import Client; "
        "print(Client().get('/api/nope/', HTTP_HOST='scanner.example').status_code)",
        DJANGO_SETTINGS_MODULE="config.settings",
    )

    assert (ran.returncode, ran.stdout.splitlines()[-1]) == (0, "400")
    assert "Invalid HTTP_HOST" not in ran.stderr + ran.stdout


def test_check_deploy_is_clean_with_production_settings() -> None:
    ran = run_python(
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        APP_ENV="production",
        DJANGO_SECRET_KEY="q7Vd2-Lk9sWm4Pz8Rt1Xb6Ny3Hc5Jf0Ga2Ue7Ko9Ti4Qw8Zs-e3Rn6Yp1Ma",
        DJANGO_SETTINGS_MODULE="config.settings",
        EMAIL_HOST="smtp.example.com",
        SMS_BACKEND="http",
        SMS_HTTP_URL="https://sms.example/send",
    )

    assert ran.returncode == 0, ran.stderr
    assert "System check identified no issues" in ran.stdout
