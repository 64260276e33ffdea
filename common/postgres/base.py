"""Django's Postgres backend with django-prometheus' query metrics, and a deadline on the
check of a reused connection.

Postgres ends a slow statement itself (statement_timeout, config/settings.py), but a
server or network that stops answering altogether sends nothing back, and psycopg would
wait on the socket for as long as it lasts: kernel keepalives and TCP timeouts answer for
a stopped process too. Every request begins with the check of its reused connection
(CONN_HEALTH_CHECKS' `SELECT 1`); that check gives up after a connect timeout, closing the
connection, and the new connection gives up after another (connect_timeout), so a server
that hung between requests costs a request a few seconds and a 503. A deadline on every
wait would also catch one that hangs mid-request, but psycopg's waits with a timeout cost
a fifth of a request's CPU (bench/README.md); gunicorn's worker timeout bounds that case.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.conf import settings
from django_prometheus.db.backends.postgresql import base


class DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection whose waits for the server give up after `deadline` seconds
    (None: never), closing the connection, whose state is unknown then."""

    deadline: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        if self.deadline is None:
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval=interval, timeout=timeout or self.deadline)
        except psycopg.errors._WaitTimeout as exc:  # psycopg's own name for a missed timeout
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"the server sent nothing for {timeout or self.deadline} s"
            ) from exc


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        # psycopg.connect() builds a plain Connection; this class only adds the deadline.
        connection.__class__ = DeadlineConnection
        return connection

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None:
            return False
        connection.deadline = settings.DATABASE_CONNECT_TIMEOUT
        try:
            return super().is_usable()
        finally:
            connection.deadline = None
