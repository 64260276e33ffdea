"""Sign the benchmark users in, then time the read endpoints one request at a time.

    python bench/latency.py --seed-report seed.json --tokens tokens.json --out latency.json

`--seed-report` is what `manage.py seed_demo --report` wrote. Each endpoint gets WARMUP
untimed requests (connection pools, the code lookup's cache), then `--requests` timed
ones, strictly sequential. Times are wall clock around request + full response read, on
loopback: gunicorn's sync workers close the connection after every response, so each
timing includes one local TCP connect (~0.1 ms). Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

WARMUP = 10
# Targets in milliseconds, on the median (the p99 is reported beside it).
TARGETS_MS = {"stats": 100.0, "tree": 50.0, "upline": 10.0, "code_lookup": 5.0}


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    user: str | None  # key of the seed report whose token to send; None: anonymous


@dataclass(frozen=True)
class Timing:
    name: str
    path: str
    requests: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    target_ms: float | None
    bytes: int


class LocalClient:
    """Sequential HTTP/1.1 to one local address; reconnects when the server closes."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.hostname != "127.0.0.1":
            raise SystemExit("benchmarks only talk to 127.0.0.1")
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)

    def request(
        self, method: str, path: str, *, token: str | None = None, body: Any = None
    ) -> tuple[int, bytes]:
        headers = {"Accept": "application/json"}
        payload = None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, body=payload, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.will_close:
            self.connection.close()
        return response.status, data


def sign_in(client: LocalClient, *, email: str, password: str) -> str:
    status, data = client.request(
        "POST", "/api/auth/jwt/create/", body={"email": email, "password": password}
    )
    if status != 200:
        raise SystemExit(f"sign-in of {email} failed: {status} {data[:300]!r}")
    return json.loads(data)["access"]


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


def measure(client: LocalClient, endpoint: Endpoint, *, token: str | None, requests: int) -> Timing:
    size = 0
    for _ in range(WARMUP):
        status, data = client.request("GET", endpoint.path, token=token)
        if status != 200:
            raise SystemExit(f"{endpoint.path}: {status} {data[:300]!r}")
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        status, data = client.request("GET", endpoint.path, token=token)
        samples.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"{endpoint.path}: {status} {data[:300]!r}")
        size = len(data)
    samples.sort()
    return Timing(
        name=endpoint.name,
        path=endpoint.path,
        requests=requests,
        p50_ms=round(percentile(samples, 0.50), 2),
        p90_ms=round(percentile(samples, 0.90), 2),
        p99_ms=round(percentile(samples, 0.99), 2),
        max_ms=round(samples[-1], 2),
        mean_ms=round(statistics.fmean(samples), 2),
        target_ms=TARGETS_MS.get(endpoint.name),
        bytes=size,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed-report", type=Path, required=True)
    parser.add_argument("--base-url", default="http://127.0.0.1:8100")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--tokens", type=Path, required=True, help="Write the access tokens here.")
    parser.add_argument("--out", type=Path, required=True, help="Write the timings here.")
    args = parser.parse_args()
    if not 1 <= args.requests <= 10_000:
        parser.error("--requests is from 1 to 10000")

    seed = json.loads(args.seed_report.read_text())
    client = LocalClient(args.base_url)
    roles = ("largest_tree_root", "about_1000_referrals", "deepest_leaf", "most_referrals")
    tokens = {
        role: sign_in(client, email=seed[role]["email"], password=seed["password"])
        for role in roles
    }
    args.tokens.write_text(json.dumps(tokens, indent=2) + "\n")

    endpoints = [
        Endpoint("stats", "/api/referrals/stats/", "largest_tree_root"),
        Endpoint("tree", "/api/referrals/tree/?depth=10", "largest_tree_root"),
        Endpoint("upline", "/api/referrals/upline/", "deepest_leaf"),
        Endpoint("me", "/api/users/me/", "about_1000_referrals"),
        Endpoint("referrals", "/api/referrals/", "about_1000_referrals"),
        Endpoint(
            "code_lookup",
            f"/api/referral-codes/{seed['about_1000_referrals']['code']}/",
            None,
        ),
    ]
    timings = []
    print(f"{'endpoint':<12} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}  target")
    for endpoint in endpoints:
        token = tokens[endpoint.user] if endpoint.user else None
        timing = measure(client, endpoint, token=token, requests=args.requests)
        timings.append(timing)
        verdict = ""
        if timing.target_ms is not None:
            met = "met" if timing.p50_ms < timing.target_ms else "MISSED"
            verdict = f"< {timing.target_ms:g} ms: {met}"
        print(
            f"{timing.name:<12} {timing.p50_ms:>8.2f} {timing.p90_ms:>8.2f} "
            f"{timing.p99_ms:>8.2f} {timing.max_ms:>8.2f}  {verdict}",
            flush=True,
        )
    args.out.write_text(json.dumps([asdict(t) for t in timings], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
