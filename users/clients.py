"""Outbound HTTP: Hunter.io's Email Verifier (the deliverability check behind sign-up)
and the SMS gateway (phone sign-in codes)."""

from __future__ import annotations

import requests
from django.conf import settings


class HunterUnavailableError(Exception):
    """Hunter could not give a verdict: transport failure, timeout, non-2xx or garbage."""


def hunter_email_status(email: str) -> str:
    """Hunter's `data.status` for `email` (`valid`, `invalid`, `disposable`, `accept_all`,
    `webmail`, `unknown`). Raises HunterUnavailableError."""
    try:
        response = requests.get(
            settings.HUNTER_API_URL,
            params={"email": email, "api_key": settings.HUNTER_API_KEY},
            timeout=settings.HUNTER_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise HunterUnavailableError("request failed") from exc
    if response.status_code != 200:
        raise HunterUnavailableError(f"HTTP {response.status_code}")
    try:
        status = response.json()["data"]["status"]
    except (ValueError, KeyError, TypeError) as exc:
        raise HunterUnavailableError("unreadable answer") from exc
    if not isinstance(status, str):
        raise HunterUnavailableError("unreadable answer")
    return status


class SmsGatewayError(Exception):
    """The SMS gateway did not take the message: transport failure, timeout or non-2xx."""


def sms_gateway_send(*, to: str, text: str) -> None:
    """POST `{"to", "text"}` as JSON to SMS_HTTP_URL with SMS_HTTP_TOKEN as the bearer
    token; any 2xx is success, whatever its body. Raises SmsGatewayError."""
    try:
        response = requests.post(
            settings.SMS_HTTP_URL,
            json={"to": to, "text": text},
            headers={"Authorization": f"Bearer {settings.SMS_HTTP_TOKEN}"},
            # The connect, and then each read of the answer.
            timeout=settings.SMS_HTTP_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise SmsGatewayError("request failed") from exc
    if not 200 <= response.status_code < 300:
        raise SmsGatewayError(f"HTTP {response.status_code}")
