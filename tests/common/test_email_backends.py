"""The console email backend: whole messages in development, links and codes masked in
production (where it runs only when EMAIL_BACKEND=console is set explicitly)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.mail import EmailMessage

from common.email_backends import ConsoleEmailBackend
from common.emails import email_render

RESET_LINK = "https://app.example.com/password/reset/confirm/MTIz/c0ffee-t0ken"


def printed(message: EmailMessage) -> str:
    stream = io.StringIO()
    ConsoleEmailBackend(stream=stream).send_messages([message])
    return stream.getvalue()


def code_email() -> EmailMessage:
    return email_render(
        template="referral_code",
        context={
            "code": "WINTER26",
            "expires_at": None,
            "share_url": "https://shop.example/r/WINTER26/",
        },
        to="anna@example.com",
        sensitive=["WINTER26"],
    )


def test_prints_the_whole_message_outside_production() -> None:
    output = printed(code_email())

    assert "WINTER26" in output
    assert "https://shop.example/r/WINTER26/" in output


@pytest.mark.usefixtures("production")
class TestInProduction:
    def test_masks_the_code_and_the_links_path_in_subject_and_both_bodies(self) -> None:
        output = printed(code_email())

        assert "WINTER26" not in output
        assert "Subject: Your referral code [masked]" in output
        assert output.count("https://shop.example/[masked]") == 3  # text, HTML link and text
        assert "anna@example.com" in output  # who it was for stays readable

    def test_masks_links_in_any_message(self) -> None:
        message = EmailMessage(subject="Reset", body=f"Open {RESET_LINK} now.", to=["a@b.example"])

        output = printed(message)

        assert "c0ffee-t0ken" not in output
        assert "Open https://app.example.com/[masked] now." in output


@pytest.fixture
def production(settings: Any) -> None:
    settings.PRODUCTION = True
