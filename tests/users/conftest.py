from collections.abc import Iterator

import pytest

from users import sms


@pytest.fixture(autouse=True)
def sms_outbox() -> Iterator[list[sms.SmsMessage]]:
    """users.sms.outbox (the locmem SMS backend's), empty at the start and end of each test."""
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()
