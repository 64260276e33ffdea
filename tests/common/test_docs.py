from __future__ import annotations

import re
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.helpers import documented_errors

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
    assets = [a or b for a, b in URL.findall(html) if (a or b).startswith(("/static/", "/api/"))]

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


@pytest.mark.parametrize(
    ("path", "method", "attr", "code"),
    [
        ("/api/users/", "post", "email", "email_undeliverable"),
        ("/api/users/", "post", "email", "unique"),
        ("/api/users/", "post", "password", "password_too_short"),
        ("/api/users/", "post", "referral_code", "used_up"),
        ("/api/users/me/", "patch", "phone", "unique"),
        ("/api/users/me/referrer/", "post", "code", "already_referred"),
        ("/api/users/me/referrer/", "post", "code", "cycle"),
        ("/api/users/set_password/", "post", "current_password", "invalid_password"),
        ("/api/users/reset_password_confirm/", "post", "token", "invalid_token"),
        ("/api/codes/", "post", "code", "unique"),
        ("/api/codes/", "post", "expires_at", "expires_in_past"),
        ("/api/codes/{code}/", "patch", "max_uses", "invalid"),
        ("/api/auth/jwt/create/", "post", None, "invalid"),
        # Query parameters a GET validates (common.openapi.AutoSchema).
        ("/api/referrals/", "get", "page", "invalid"),
        ("/api/referrals/", "get", "search", "max_length"),
        ("/api/referrals/tree/", "get", "depth", "invalid"),
        ("/api/user-sync/", "get", "since", "invalid"),
        ("/api/user-sync/", "get", "limit", "required"),
        ("/api/users/batch/", "get", "uuids", "blank"),
        ("/api/users/batch/", "get", "uuids", "max_length"),
    ],
)
def test_schema_documents_the_domain_error_codes(
    api_client: APIClient, path: str, method: str, attr: str | None, code: str
) -> None:
    """The codes API.md names, on the field they are sent on; errors about the request
    as a whole with `attr: null`, as they are sent."""
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert (attr, code) in documented_errors(response.json(), path, method, "400")


@pytest.mark.parametrize(
    ("path", "code"),
    [("/api/auth/jwt/create/", "no_active_account"), ("/api/auth/jwt/refresh/", "token_not_valid")],
)
def test_schema_documents_simplejwts_401_codes(api_client: APIClient, path: str, code: str) -> None:
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert code in schema["components"]["schemas"]["ErrorCode401Enum"]["enum"]
    assert "401" in schema["paths"][path]["post"]["responses"]


def test_schema_documents_query_parameter_bounds(api_client: APIClient) -> None:
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    tree = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/referrals/tree/"]["get"]["parameters"]
    }
    assert (tree["depth"]["minimum"], tree["depth"]["maximum"]) == (1, 10)
    assert (tree["page"]["minimum"], tree["page_size"]["maximum"]) == (1, 100)


def test_schema_documents_503_everywhere(api_client: APIClient) -> None:
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    operations = [op for item in schema["paths"].values() for op in item.values()]
    assert operations and all("503" in op["responses"] for op in operations)


def test_every_operation_has_a_summary_a_description_and_a_described_tag(
    api_client: APIClient,
) -> None:
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    described = {tag["name"] for tag in schema["tags"] if tag.get("description")}
    lacking = [
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if not (operation.get("summary") and operation.get("description"))
        or not set(operation["tags"]) <= described
    ]
    assert lacking == []


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [
        ("/api/users/", "post", None),
        ("/api/users/", "post", "201"),
        ("/api/auth/jwt/create/", "post", None),
        ("/api/auth/jwt/refresh/", "post", "200"),
        ("/api/users/me/", "get", "200"),
        ("/api/codes/", "post", None),
        ("/api/codes/", "get", "200"),
        ("/api/referral-codes/{code}/", "get", "200"),
        ("/api/users/me/referrer/", "post", None),
        ("/api/referrals/", "get", "200"),
        ("/api/referrals/tree/", "get", "200"),
        ("/api/referrals/stats/", "get", "200"),
        ("/api/referrals/upline/", "get", "200"),
        ("/api/user-sync/", "get", "200"),
        ("/api/users/batch/", "get", "200"),
    ],
)
def test_the_main_flows_have_examples(
    api_client: APIClient, path: str, method: str, status: str | None
) -> None:
    """Request examples (status None) and response examples of the main flows."""
    operation = api_client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    ).json()["paths"][path][method]

    content = (
        operation["requestBody"]["content"]
        if status is None
        else operation["responses"][status]["content"]
    )
    assert content["application/json"].get("examples")


def test_the_readme_and_docs_stand_alone() -> None:
    """A clone has no ../shared/: the docs point at nothing outside the repository."""
    root = Path(__file__).resolve().parents[2]
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]

    assert [page.name for page in pages if "../shared" in page.read_text()] == []
