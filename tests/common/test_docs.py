from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")


@pytest.mark.parametrize("path", ["/api/schema/swagger-ui/", "/api/schema/redoc/"])
def test_doc_pages_load_nothing_from_other_hosts(api_client: APIClient, path: str) -> None:
    response = api_client.get(path)
    html = response.content.decode()

    referenced = [a or b for a, b in URL.findall(html)]
    assert response.status_code == 200
    assert referenced, "the page references no assets at all?"
    external = [url for url in referenced if re.match(r"^(https?:)?//", url)]
    assert external == []
    assert "fonts.googleapis" not in html and "cdn.jsdelivr" not in html


@pytest.mark.parametrize("path", ["/api/schema/swagger-ui/", "/api/schema/redoc/"])
def test_doc_assets_are_served_locally(api_client: APIClient, path: str) -> None:
    from django.test import Client

    html = api_client.get(path).content.decode()
    assets = [a or b for a, b in URL.findall(html) if (a or b).startswith("/static/")]

    assert assets
    for asset in assets:
        assert Client().get(asset).status_code == 200, asset


def test_schema_documents_the_error_envelope(api_client: APIClient) -> None:
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    schema = response.json()
    assert response.status_code == 200
    register = schema["paths"]["/api/users/"]["post"]["responses"]
    assert "400" in register and "201" in register
    assert "X-API-Key" not in str(schema["paths"].get("/api/users/me/", {}))


@pytest.mark.parametrize(
    ("path", "success", "documented_error"),
    [
        ("/api/users/set_password/", "204", "400"),
        ("/api/users/reset_password/", "204", "400"),
        ("/api/users/reset_password_confirm/", "204", "400"),
        ("/api/auth/jwt/create/", "200", "401"),
        ("/api/auth/jwt/refresh/", "200", "401"),
        ("/api/auth/jwt/verify/", "200", "401"),
    ],
)
def test_schema_documents_what_the_endpoint_answers(
    api_client: APIClient, path: str, success: str, documented_error: str
) -> None:
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    answers = response.json()["paths"][path]["post"]["responses"]
    assert success in answers and documented_error in answers
    assert not ({"200", "204"} - {success}) & answers.keys()
