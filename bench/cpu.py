"""CPU accounting around one measurement, from /proc (Linux).

    python bench/cpu.py snapshot --gunicorn PID > before.json
    ... run the load ...
    python bench/cpu.py snapshot --gunicorn PID > after.json
    python bench/cpu.py report before.json after.json [--requests N] [--client-cpu FILE]

The host is shared with other work, so a throughput figure alone cannot tell a slow server
from a busy machine. This splits the machine's busy time between the gunicorn workers,
Postgres, Redis, the load generator (`--client-cpu`: `/usr/bin/time -f '%U %S'` output)
and everything else, and gives the server's CPU milliseconds per request.

"postgres" is every process of the postgres user, so other databases' backends count
there too: the per-request figure is only the server's own when "other" is near zero.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import sys
import time
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")


def _process_times() -> dict[int, tuple[int, str, str, float]]:
    """pid -> (ppid, command, user, CPU seconds) for every live process."""
    processes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
            owner = pwd.getpwuid(entry.stat().st_uid).pw_name
        except (OSError, KeyError):
            continue  # exited meanwhile, or an unnamed uid
        command = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        # After the command: state, ppid, ..., then utime, stime, cutime, cstime. The
        # children's times hold what exited workers used (Postgres parallel workers
        # live for one query and are reaped by the postmaster).
        processes[int(entry.name)] = (
            int(fields[1]),
            command,
            owner,
            sum(int(value) for value in fields[11:15]) / TICK,
        )
    return processes


def snapshot(gunicorn_pid: int) -> dict[str, Any]:
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) / TICK for v in cpu[:8])
    groups: dict[str, dict[str, float]] = {"gunicorn": {}, "postgres": {}, "redis": {}}
    for pid, (ppid, command, owner, seconds) in _process_times().items():
        if gunicorn_pid in (pid, ppid):
            groups["gunicorn"][str(pid)] = seconds
        elif owner == "postgres":
            groups["postgres"][str(pid)] = seconds
        elif command.startswith("redis-server"):
            groups["redis"][str(pid)] = seconds
    return {
        "wall": time.monotonic(),
        "cpus": os.cpu_count(),
        "busy": user + nice + system + irq + softirq,
        "idle": idle + iowait,
        "steal": steal,
        "groups": groups,
    }


def _group_seconds(before: dict[str, float], after: dict[str, float]) -> float:
    # Processes that started during the run (new Postgres backends) count from zero.
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def report(
    before: dict[str, Any], after: dict[str, Any], *, requests: int | None, client: float
) -> str:
    wall = after["wall"] - before["wall"]
    capacity = wall * after["cpus"]
    busy = after["busy"] - before["busy"]
    steal = after["steal"] - before["steal"]
    shares = {
        name: _group_seconds(before["groups"][name], after["groups"][name])
        for name in ("gunicorn", "postgres", "redis")
    }
    shares["client"] = client
    shares["other"] = max(0.0, busy - sum(shares.values()))
    parts = ", ".join(f"{name} {100 * s / capacity:.0f}%" for name, s in shares.items())
    line = (
        f"machine over {wall:.1f} s: busy {100 * busy / capacity:.0f}%, "
        f"steal {100 * steal / capacity:.0f}% ({parts} of {after['cpus']} CPUs)"
    )
    if requests:
        per_request = ", ".join(
            f"{name} {1000 * shares[name] / requests:.2f}"
            for name in ("gunicorn", "postgres", "redis")
        )
        line += f"\nserver CPU ms per request: {per_request}"
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("snapshot")
    take.add_argument("--gunicorn", type=int, required=True, help="gunicorn master pid")
    compare = commands.add_parser("report")
    compare.add_argument("before", type=Path)
    compare.add_argument("after", type=Path)
    compare.add_argument("--requests", type=int, default=None)
    compare.add_argument("--client-cpu", type=Path, default=None)
    args = parser.parse_args()

    if args.command == "snapshot":
        json.dump(snapshot(args.gunicorn), sys.stdout)
        return 0
    client = 0.0
    if args.client_cpu is not None:
        client = sum(float(v) for v in args.client_cpu.read_text().split()[-2:])
    print(
        report(
            json.loads(args.before.read_text()),
            json.loads(args.after.read_text()),
            requests=args.requests,
            client=client,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
