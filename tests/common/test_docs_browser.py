"""The docs pages in a real browser: they render, and every request they make goes to
the service itself (no CDN, no fonts, no logo from elsewhere)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from tests.browser import RecordingPage


@pytest.mark.parametrize(
    ("path", "rendered"),
    [
        ("/api/schema/redoc/", "text=Register an account >> visible=true"),
        ("/api/schema/swagger-ui/", "text=Register an account >> visible=true"),
    ],
)
def test_doc_pages_render_and_load_nothing_from_another_host(
    browser_page: RecordingPage, live_server: Any, path: str, rendered: str
) -> None:
    page = browser_page.page

    page.goto(live_server.url + path)
    page.wait_for_selector(rendered, timeout=30_000)
    page.wait_for_load_state("networkidle")

    host = urlparse(live_server.url).netloc
    elsewhere = [
        url
        for url in browser_page.requests
        if urlparse(url).scheme not in ("data", "blob") and urlparse(url).netloc != host
    ]
    assert elsewhere == []
    assert any(url.endswith("/api/schema/") for url in browser_page.requests)
