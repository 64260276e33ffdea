"""CSV written a line at a time, for responses that stream."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import Any


class _Line:
    """A file for csv.writer that hands back what was written instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """`header`, then each of `rows`, as CSV lines: nothing but the current row is held."""
    writer = csv.writer(_Line())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)
