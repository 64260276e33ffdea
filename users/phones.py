"""Phone numbers: any common notation in, E.164 out."""

import phonenumbers
from django.conf import settings


class InvalidPhoneError(ValueError):
    pass


def phone_normalize(raw: str) -> str:
    """Return `raw` in E.164 (`+79999999999`); `89999999999` and `+7 (999) 999-99-99` are
    read in PHONE_DEFAULT_REGION. Raises InvalidPhoneError for anything not a valid number."""
    try:
        number = phonenumbers.parse(raw, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneError(raw) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneError(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_from_search(term: str) -> str | None:
    """`term` in E.164 when it reads as a phone number, else None: a search for
    `8 999 123-45-67` must find `+79991234567`, which no substring match does."""
    try:
        return phone_normalize(term) if term else None
    except InvalidPhoneError:
        return None
