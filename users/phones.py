"""Phone numbers: any common notation in, E.164 out."""

import functools

import phonenumbers
from django.conf import settings


class InvalidPhoneError(ValueError):
    pass


def phone_normalize(raw: str) -> str:
    """Return `raw` in E.164 (`+79999999999`); `89999999999` and `+7 (999) 999-99-99` are
    read in PHONE_DEFAULT_REGION. Raises InvalidPhoneError for anything not a valid number."""
    e164 = _e164(raw, settings.PHONE_DEFAULT_REGION)
    if e164 is None:
        raise InvalidPhoneError(raw)
    return e164


# A request reads its phone twice (the serializer's PhoneField, then the service, which
# takes any notation too), and parsing one costs a phone sign-in about 3% of its CPU.
@functools.lru_cache(maxsize=4096)
def _e164(raw: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_from_search(term: str) -> str | None:
    """`term` in E.164 when it reads as a phone number, else None: a search for
    `8 999 123-45-67` must find `+79991234567`, which no substring match does."""
    try:
        return phone_normalize(term) if term else None
    except InvalidPhoneError:
        return None
