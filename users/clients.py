"""Hunter.io's Email Verifier, the deliverability check behind sign-up."""

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
