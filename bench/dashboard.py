"""The dashboard's aggregates on Postgres, uncached, against a yardstick in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/referral_dash \\
      PYTHONPATH=. .venv/bin/python bench/dashboard.py [--rounds 7] [--json out.json]

Each round times every figure of referral.dashboard once (the functions behind the
cache) and the yardstick: `SELECT count(*) FROM users_user` (one index-only scan of the
whole table, what "an index scan at 1,000,000 users" costs on this host right now). The
order of the figures rotates between rounds, so the host's drift spreads over all of
them. Reported: the median and the minimum per figure, and the median of each round's
ratio to that round's yardstick. The load average is read before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db import connection  # noqa: E402

from referral import dashboard  # noqa: E402


def _yardstick() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM users_user")
        cursor.fetchone()


def _signups(*, now: datetime, days: int) -> Any:
    first = dashboard._utc_midnight(now) - timedelta(days=days - 1)
    return dashboard._signups(first=first, days=days)


def _figures(now: datetime) -> dict[str, Callable[[], Any]]:
    figures: dict[str, Callable[[], Any]] = {
        f"signups_{days}d": partial(_signups, now=now, days=days) for days in dashboard.WINDOWS
    }
    figures.update(
        forest=dashboard._forest,
        top_direct=lambda: dashboard._top_direct(limit=dashboard.TOP),
        top_downline=lambda: dashboard._top_downline(limit=dashboard.TOP),
        refusals_365d=lambda: dashboard._refusals(first=now.date().replace(year=now.year - 1)),
        conversion=lambda: dashboard._conversion(limit=dashboard.TOP),
    )
    return figures


def _timed(function: Callable[[], Any]) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "measure on Postgres (DATABASE_URL)"

    now = datetime.now(UTC)
    figures = _figures(now)
    names = list(figures)
    load_before = os.getloadavg()
    for name in names:  # warm the caches of Postgres and the OS once
        figures[name]()
    times: dict[str, list[float]] = {name: [] for name in [*names, "yardstick"]}
    ratios: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        yardstick = _timed(_yardstick)
        times["yardstick"].append(yardstick)
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            elapsed = _timed(figures[name])
            times[name].append(elapsed)
            ratios[name].append(elapsed / yardstick)
    load_after = os.getloadavg()

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM users_user")
        (users,) = cursor.fetchone()
    result = {
        "at": now.isoformat(timespec="seconds"),
        "users": users,
        "rounds": args.rounds,
        "load_before": load_before,
        "load_after": load_after,
        "figures": {
            name: {
                "median_ms": round(statistics.median(values), 1),
                "min_ms": round(min(values), 1),
                "median_ratio": round(statistics.median(ratios[name]), 2) if name in ratios else 1,
            }
            for name, values in times.items()
        },
    }
    load = f"load {load_before[0]:.1f} -> {load_after[0]:.1f}"
    print(f"{users:,} users, {args.rounds} rounds, {load}")
    print(f"{'figure':<16}{'median ms':>11}{'min ms':>9}{'x yardstick':>13}")
    for name, row in result["figures"].items():
        print(f"{name:<16}{row['median_ms']:>11}{row['min_ms']:>9}{row['median_ratio']:>13}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
