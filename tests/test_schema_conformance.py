"""Every operation of the published schema, fed input generated from that schema by
schemathesis with a fixed seed: no input yields a 500, and every answer (status code,
content type, headers, body) is one the schema documents.

Whether an input is accepted is a business rule no schema can state (a taken email, a
code already used), so the two checks that expect "schema-valid in, 2xx out" and the
reverse are left out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from sync.services import api_key_create
from tests.users.factories import UserFactory


def _published_schema() -> dict[str, Any]:
    # What /api/schema/ serves, built without a request (that would need the database
    # before the test database exists).
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(_published_schema())
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def _test_connection_stays_open() -> Iterator[None]:
    """Django closes the database connection when a request ends, and with it the test's
    transaction; its own test client unhooks that, as this does around schemathesis'."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def credentials(db: None) -> dict[str, str]:
    """A bearer token and an API key, so that operations get past authentication."""
    token = RefreshToken.for_user(UserFactory.create()).access_token
    return {"Authorization": f"Bearer {token}", "X-API-Key": api_key_create(name="fuzz")[1]}


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,  # the same inputs on every run: CI fails on a change, not on luck
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_documented(case: Any, credentials: dict[str, str]) -> None:
    case.call_and_validate(
        headers=credentials,
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )
