"""docker-compose.yaml against what `docker compose config` would find wrong and the rules
it is meant to keep. Its shape against the compose specification's schema is CI's
(`check-jsonschema` in .ci/run); these read what a schema cannot see."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yaml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
TEMPLATE = (ROOT / "nginx" / "templates" / "default.conf.template").read_text()

# ${NAME}, ${NAME:-default}, ${NAME:?message}
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<rest>[^}]*)\}")
REQUIRED_SECRETS = ["DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "APP_DB_PASSWORD"]


def _interpolated() -> dict[str, set[str]]:
    """NAME -> every modifier it is used with (":-80", ":?set it", "")."""
    found: dict[str, set[str]] = {}
    for match in INTERPOLATION.finditer(COMPOSE_TEXT):
        found.setdefault(match["name"], set()).add(match["rest"])
    return found


def _example_value(name: str) -> str | None:
    """The value .env.example gives NAME (commented out or not), None if it is absent."""
    match = re.search(rf"^(?:#\s*)?{name}=(.*)$", ENV_EXAMPLE, re.M)
    return match[1] if match else None


def test_compose_reads_some_variables() -> None:
    # Guards the pattern: a compose file it no longer matches would pass the next test.
    assert {"NGINX_PORT", "POSTGRES_PASSWORD"} <= set(_interpolated())


@pytest.mark.parametrize("name", sorted(_interpolated()))
def test_every_variable_compose_reads_is_in_the_env_example(name: str) -> None:
    assert _example_value(name) is not None, f".env.example lacks {name}"


@pytest.mark.parametrize("name", REQUIRED_SECRETS)
def test_a_secret_has_no_default_and_stops_compose_while_unset(name: str) -> None:
    uses = _interpolated()[name]

    assert uses and all(rest.startswith(":?") for rest in uses), f"{name}: ${{{name}:?…}}"
    assert _example_value(name) == "", f".env.example must list {name} with no value"


def test_the_app_containers_do_not_get_the_superusers_password() -> None:
    for name in ("migrate", "web", "worker"):
        assert SERVICES[name]["environment"]["POSTGRES_PASSWORD"] == "", name


def test_the_app_containers_use_the_images_static_manifest() -> None:
    # env_file (.env, copied from .env.example where it is false) wins over the image's
    # ENV, so the stack itself must say it.
    for name in ("migrate", "web", "worker"):
        assert SERVICES[name]["environment"]["DJANGO_STATIC_MANIFEST"] == "true", name


def test_the_app_connects_as_its_own_role() -> None:
    url = SERVICES["web"]["environment"]["DATABASE_URL"]

    assert url.startswith("postgres://referral:")
    assert SERVICES["db"]["environment"]["APP_DB_USER"] == "referral"
    assert SERVICES["db"]["environment"]["APP_DB_NAME"] == "referral"
    assert "./postgres/initdb.d:/docker-entrypoint-initdb.d:ro" in SERVICES["db"]["volumes"]


def test_every_dependency_is_a_service() -> None:
    for name, service in SERVICES.items():
        assert set(service.get("depends_on", {})) <= set(SERVICES), name


def test_every_named_volume_is_declared() -> None:
    declared = set(COMPOSE.get("volumes") or {})
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source.startswith(("./", "/")) or source in declared, (name, volume)


def test_migrations_run_once_before_web_and_worker() -> None:
    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", "worker"):
        assert SERVICES[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert "migrate" not in str(SERVICES[name].get("command", ""))


def test_nginx_waits_for_a_healthy_web() -> None:
    assert SERVICES["nginx"]["depends_on"]["web"] == {"condition": "service_healthy"}


def test_nginx_mounts_the_templates_and_sets_exactly_their_variables() -> None:
    used = set(re.findall(r"\$\{([A-Z_]+)\}", TEMPLATE))

    assert used == {"APP_UPSTREAM", "STATIC_ROOT", "NGINX_PORT"}
    assert set(SERVICES["nginx"]["environment"]) == used
    assert "./nginx/templates:/etc/nginx/templates:ro" in SERVICES["nginx"]["volumes"]


def test_the_template_uses_no_other_environment_style_variable() -> None:
    # The official image substitutes every variable its environment defines; nginx's own
    # are lower case, so an upper-case $NAME here would be one that envsubst might eat.
    stray = set(re.findall(r"\$([A-Z_][A-Z0-9_]*)", TEMPLATE))

    assert stray == set()
