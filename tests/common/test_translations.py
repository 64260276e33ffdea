"""The Russian catalogue: domain errors are translated, the .mo matches the .po, and the
API answers in Russian when asked to."""

from __future__ import annotations

import ast
import gettext
import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from pytest_django import Settings
from rest_framework.test import APIClient

from common.errors import DomainError

ERROR_MODULES = (
    "common.errors",
    "users.errors",
    "codes.errors",
    "referral.errors",
    "sync.errors",
)
for _module in ERROR_MODULES:
    importlib.import_module(_module)

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "ru" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"

CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def _domain_errors() -> list[type[DomainError]]:
    """DomainError and every subclass defined in the apps' errors modules."""
    found: list[type[DomainError]] = []
    pending = [DomainError]
    while pending:
        cls = pending.pop()
        if cls.__module__ in ERROR_MODULES and cls not in found:
            found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: (cls.__module__, cls.__qualname__))


@pytest.mark.parametrize(
    "error_class", _domain_errors(), ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}"
)
def test_domain_error_detail_is_translated_to_russian(error_class: type[DomainError]) -> None:
    with translation.override("en"):
        english = str(error_class().detail)
    with translation.override("ru"):
        russian = str(error_class().detail)

    assert russian != english
    assert CYRILLIC.search(russian), russian


def _po_string(text: str) -> str:
    """The value of a quoted PO string (PO escapes are C escapes, as in Python literals)."""
    value = ast.literal_eval(text)
    if not isinstance(value, str):
        raise ValueError(f"Not a PO string: {text!r}")
    return value


@dataclass
class _PoEntry:
    msgctxt: str | None = None
    msgid: str | None = None
    msgid_plural: str | None = None
    msgstr: str | None = None
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    fuzzy: bool = False

    @property
    def has_msgstr(self) -> bool:
        return self.msgstr is not None or bool(self.msgstr_plural)


def _po_entries(path: Path) -> list[_PoEntry]:
    """Every entry of a .po file, the header (msgid "") and fuzzy ones included.

    Handles msgctxt, plurals and continuation lines; skips obsolete `#~` entries.
    """
    entries: list[_PoEntry] = []
    entry = _PoEntry()
    current: tuple[str, int | None] | None = None  # the field continuation lines extend

    def finish() -> None:
        nonlocal entry, current
        if entry.msgid is not None:
            entries.append(entry)
        entry, current = _PoEntry(), None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#"):
            if entry.msgid is not None:  # a comment starts the next entry
                finish()
            if line.startswith("#,") and "fuzzy" in line:
                entry.fuzzy = True
        elif line.startswith('"'):
            if current is None:
                raise ValueError(f"Continuation line outside an entry: {raw!r}")
            name, index = current
            if index is None:
                setattr(entry, name, getattr(entry, name) + _po_string(line))
            else:
                entry.msgstr_plural[index] += _po_string(line)
        else:
            keyword, _, value = line.partition(" ")
            if keyword in ("msgctxt", "msgid") and entry.has_msgstr:
                finish()  # entries not separated by a blank line
            plural = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if plural:
                index = int(plural.group(1))
                entry.msgstr_plural[index] = _po_string(value)
                current = ("msgstr_plural", index)
            elif keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr"):
                setattr(entry, keyword, _po_string(value))
                current = (keyword, None)
            else:
                raise ValueError(f"Unexpected line in {path.name}: {raw!r}")
    finish()
    return entries


def _parse_po(path: Path) -> dict[str, str]:
    """Translated entries of a .po file, keyed as `_parse_mo` keys the .mo: the header,
    fuzzy entries (msgfmt leaves them out) and untranslated ones are skipped."""
    catalog: dict[str, str] = {}
    for item in _po_entries(path):
        if item.fuzzy or not item.msgid:
            continue
        key = item.msgid if item.msgctxt is None else f"{item.msgctxt}\x04{item.msgid}"
        if item.msgid_plural is not None:
            if item.msgstr_plural and all(item.msgstr_plural.values()):
                for index, text in item.msgstr_plural.items():
                    catalog[f"{key}\x00{index}"] = text
        elif item.msgstr:
            catalog[key] = item.msgstr
    return catalog


def _parse_mo(path: Path) -> dict[str, str]:
    with path.open("rb") as fp:
        translations = gettext.GNUTranslations(fp)
    catalog: dict[str, str] = {}
    # GNUTranslations keeps its catalogue in `_catalog` (private, so not in typeshed):
    # plain msgids map to their msgstr, plural entries are keyed (msgid, index); "" is
    # the header.
    for key, text in translations._catalog.items():  # type: ignore[attr-defined]
        if isinstance(key, tuple):
            msgid, index = key
            catalog[f"{msgid}\x00{index}"] = text
        elif key != "":
            catalog[key] = text
    return catalog


def test_po_has_translations() -> None:
    assert _parse_po(PO_PATH), f"{PO_PATH} has no translated entries"


def test_every_message_is_translated_and_none_is_fuzzy() -> None:
    """makemessages leaves a new message untranslated, or "fuzzy" with a guess from a
    similar one, which Django does not serve: both must be resolved by hand."""
    messages = [entry for entry in _po_entries(PO_PATH) if entry.msgid]

    untranslated = [
        entry.msgid
        for entry in messages
        if not (entry.msgstr or (entry.msgstr_plural and all(entry.msgstr_plural.values())))
    ]
    assert messages and not untranslated, f"untranslated in {PO_PATH.name}: {untranslated}"
    assert not [entry.msgid for entry in messages if entry.fuzzy], "fuzzy entries"


def test_compiled_mo_matches_po() -> None:
    po = _parse_po(PO_PATH)
    mo = _parse_mo(MO_PATH)

    missing = {msgid: text for msgid, text in po.items() if mo.get(msgid) != text}
    stale = sorted(set(mo) - set(po))

    hint = "run `manage.py compilemessages -l ru --ignore=.venv` (see locale/README.md)"
    assert not missing, f"django.mo is out of date with django.po ({hint}): {missing}"
    assert not stale, f"django.mo has entries no longer in django.po ({hint}): {stale}"


def test_django_serves_the_project_catalogue() -> None:
    """LOCALE_PATHS is picked up: Django translates every plain msgid as the .po says."""
    po = _parse_po(PO_PATH)
    plain = {
        msgid: text for msgid, text in po.items() if "\x00" not in msgid and "\x04" not in msgid
    }
    with translation.override("ru"):
        served = {msgid: translation.gettext(msgid) for msgid in plain}
    assert served == plain


@pytest.mark.django_db
def test_api_answers_validation_errors_in_russian() -> None:
    client = APIClient()
    response = client.post(
        "/api/users/",
        {"email": "not-an-email", "password": "x"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="ru",
    )

    assert response.status_code == 400, response.content
    detail = response.json()["errors"][0]["detail"]
    assert CYRILLIC.search(detail), detail


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", r"^Request was throttled\. Try again in (\d+) seconds?\.$"),
        ("ru", r"^Слишком много запросов\. Повторите через (\d+) секунд[уы]?\.$"),
    ],
)
def test_throttled_answer_is_wholly_in_the_asked_language(
    settings: Settings, language: str, expected: str
) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "code_lookup": "1/hour",
        },
    }
    client = APIClient()
    client.get("/api/referral-codes/NOSUCHCODE/", HTTP_ACCEPT_LANGUAGE=language)

    response = client.get("/api/referral-codes/NOSUCHCODE/", HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 429
    error = response.json()["errors"][0]
    match = re.match(expected, error["detail"])
    assert match, error["detail"]
    assert (error["code"], match.group(1)) == ("throttled", response["Retry-After"])
