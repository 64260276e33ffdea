"""Python CPU per request, in-process, through the same WSGI application gunicorn serves.

    PYTHONPATH=. DATABASE_URL=postgres://postgres@127.0.0.1:5432/referral_bench \\
    REDIS_URL=redis://127.0.0.1:6379/0 DJANGO_ALLOWED_HOSTS=127.0.0.1 \\
    THROTTLE_USER=100000000/min .venv/bin/python bench/request_cpu.py [--profile] [PATH ...]

The throughput targets are CPU-bound: two sync workers on two cores, with wrk, Postgres
and Redis on the same cores. This isolates the worker's share: the process CPU time of
each request (not wall time, so waiting on Postgres is excluded), as user 4037 of
`seed_demo --users 1000000 --seed 1` (2,380 direct referrals). `--profile` prints a
cProfile of the first path by CPU time, sorted by cumulative time (SORT=tottime for own
time).

`/api/auth/phone/token/` is POSTed, each time with the next fresh code that
bench/phone_codes.py stored, from phone number BENCH_PHONE_FIRST (default 0) on: store
at least 50 + --requests codes (twice that with --profile).
"""

import argparse
import cProfile
import io
import itertools
import json
import os
import pstats
import statistics
import sys
import time

import django

DEFAULT_PATHS = ["/api/users/me/", "/api/referrals/"]
PHONE_TOKEN_PATH = "/api/auth/phone/token/"
PHONE_BASE = 79990000000  # bench/phone_codes.py's BASE
USER_ID = 4037


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--user", type=int, default=USER_ID)
    parser.add_argument("--api-key", default=os.environ.get("BENCH_API_KEY", ""))
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.wsgi import get_wsgi_application
    from rest_framework_simplejwt.tokens import RefreshToken

    from users.models import User

    application = get_wsgi_application()
    token = str(RefreshToken.for_user(User.objects.get(pk=args.user)).access_token)

    phone_numbers = itertools.count(int(os.environ.get("BENCH_PHONE_FIRST", "0")))

    def request(path: str) -> int:
        route, _, query = path.partition("?")
        payload = b""
        if route == PHONE_TOKEN_PATH:  # bench/phone_codes.py: phone BASE + i has code i
            i = next(phone_numbers)
            fresh = {"phone": f"+{PHONE_BASE + i}", "code": f"{i % 10**6:06d}"}
            payload = json.dumps(fresh).encode()
        environ = {
            "REQUEST_METHOD": "POST" if payload else "GET",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(payload)),
            "PATH_INFO": route,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8100",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8100",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_X_API_KEY": args.api_key,
            "wsgi.input": io.BytesIO(payload),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        status: list[str] = []
        # Django never calls the write() that start_response should return.
        body = application(environ, lambda s, h, exc_info=None: status.append(s))  # type: ignore[arg-type]
        b"".join(body)
        if hasattr(body, "close"):
            body.close()
        return int(status[0].split()[0])

    for path in args.paths:
        for _ in range(50):  # warm-up: connections, caches, imports
            assert request(path) == 200, path
        cpu = []
        for _ in range(args.requests):
            start = time.process_time()
            request(path)
            cpu.append((time.process_time() - start) * 1000)
        print(
            f"{path:40} CPU per request: mean {statistics.fmean(cpu):.3f} ms,"
            f" median {statistics.median(cpu):.3f} ms over {args.requests}"
        )

    if args.profile:
        profiler = cProfile.Profile(time.process_time)  # CPU, not waits
        profiler.enable()
        for _ in range(args.requests):
            request(args.paths[0])
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(45)


if __name__ == "__main__":
    main()
