"""Log lines for people and grep: time, level, logger, message, then the record's
`extra` fields as key=value, which the plain %-format would drop."""

import logging

_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class KeyValueFormatter(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{key}={value!r}"
            for key, value in vars(record).items()
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_")
        )
        line = super().formatMessage(record)
        return f"{line} {extras}" if extras else line
