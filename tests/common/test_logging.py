from __future__ import annotations

import logging
import sys

from common.logging import KeyValueFormatter


def test_extra_fields_follow_the_message_and_the_traceback_comes_last() -> None:
    formatter = KeyValueFormatter("%(levelname)s %(name)s %(message)s")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.getLogger("users.services").makeRecord(
            "users.services",
            logging.ERROR,
            __file__,
            1,
            "Email not sent",
            (),
            exc_info=sys.exc_info(),
            extra={"user_uuid": "u-1", "email_kind": "password_reset"},
        )

    first_line, *rest = formatter.format(record).splitlines()

    assert first_line == (
        "ERROR users.services Email not sent user_uuid='u-1' email_kind='password_reset'"
    )
    assert rest[0].startswith("Traceback") and rest[-1] == "RuntimeError: boom"


def test_a_record_without_extras_is_the_plain_format() -> None:
    record = logging.makeLogRecord({"name": "x", "levelname": "INFO", "msg": "hello"})

    assert KeyValueFormatter("%(name)s %(message)s").format(record) == "x hello"
