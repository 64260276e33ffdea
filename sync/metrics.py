"""The change queue's gauges, read when /metrics is (common.metrics.scrape_collectors)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from django.db import DatabaseError
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from common.logging import dependency_failures
from sync.selectors import change_queue_stats


class ChangeQueueCollector(Collector):
    """The queue's estimated size and the times of its oldest and newest change: a poller
    that falls behind shows as newest minus its own last `since`, a purge that stopped as
    an oldest change older than the retention."""

    def collect(self) -> Iterator[Metric]:
        try:
            stats = change_queue_stats()
        except DatabaseError as exc:
            # The database is down: /metrics still answers with everything else.
            dependency_failures.record(kind="database", error=exc, now=time.monotonic())
            return
        if stats.rows is not None:
            yield GaugeMetricFamily(
                "referral_change_queue_rows",
                "Changes in the tree service's queue (Postgres' estimate).",
                value=stats.rows,
            )
        for name, moment, documentation in (
            ("oldest", stats.oldest_at, "Unix time of the oldest queued change."),
            ("newest", stats.newest_at, "Unix time of the newest queued change."),
        ):
            if moment is not None:
                yield GaugeMetricFamily(
                    f"referral_change_queue_{name}_timestamp_seconds",
                    documentation,
                    value=moment.timestamp(),
                )
