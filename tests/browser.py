"""A real headless browser for tests: Debian's chromium, driven by Playwright.

`browser_page` opens a page that records every request it makes. Without chromium the
tests skip on a developer's machine and fail where BROWSER_TESTS=1 (CI installs it);
Playwright's own browser download (`playwright install`) is never used.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class RecordingPage:
    page: Any  # playwright.sync_api.Page
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        message = f"no chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("BROWSER_TESTS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread, where Django then refuses
    # database calls (the live server's teardown). Nothing here runs async code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield launched
            launched.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_page(browser: Any) -> Iterator[RecordingPage]:
    context = browser.new_context()
    recording = RecordingPage(page=context.new_page())
    recording.page.on("request", lambda request: recording.requests.append(request.url))
    yield recording
    context.close()
