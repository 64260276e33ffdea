"""Server-side latency of the referral reads, in-process, on a seeded database.

    PYTHONPATH=. DATABASE_URL=postgres://postgres@127.0.0.1:5432/referral_bench \\
    REDIS_URL=redis://127.0.0.1:6379/0 DJANGO_ALLOWED_HOSTS=testserver \\
    THROTTLE_USER=100000000/min .venv/bin/python bench/downline_inprocess.py

Users 1 and 4037 are the largest tree's root and the user with the most direct referrals
in `seed_demo --users 1000000 --seed 1` (bench/run.sh writes them to seed.json).
"""

import os
import statistics
import time

import django

PATHS = ["/api/referrals/tree/?depth=10", "/api/referrals/stats/", "/api/referrals/"]
SUBJECTS = [("largest root", 1), ("most referrals", 4037)]
RUNS = 30


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.test import Client
    from rest_framework_simplejwt.tokens import RefreshToken

    from users.models import User

    for label, user_id in SUBJECTS:
        token = RefreshToken.for_user(User.objects.get(pk=user_id)).access_token
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        for path in PATHS:
            client.get(path)  # warm-up
            times = []
            for _ in range(RUNS):
                start = time.perf_counter()
                status = client.get(path).status_code
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            p95 = times[int(RUNS * 0.95) - 1]
            print(f"{label:15} {path:32} p50 {statistics.median(times):6.1f} ms", end="")
            print(f"  p95 {p95:6.1f} ms  status {status}")


if __name__ == "__main__":
    main()
