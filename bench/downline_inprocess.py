"""Server-side latency of the referral reads, in-process, on a seeded database.

PYTHONPATH=. DATABASE_URL=postgres://postgres@127.0.0.1:5432/referral_bench \
REDIS_URL=redis://127.0.0.1:6379/0 DJANGO_ALLOWED_HOSTS=testserver \
THROTTLE_USER=100000000/min .venv/bin/python bench/downline_inprocess.py

Users 1 and 4037 are the largest tree's root and the user with the most direct referrals
in `seed_demo --users 1000000 --seed 1` (see bench/run.sh's seed.json).
"""

import os, time, statistics, django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken
from users.models import User

for label, uid in [("largest root", 1), ("most referrals", 4037)]:
    u = User.objects.get(pk=uid)
    c = Client(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(u).access_token}")
    for path in ["/api/referrals/tree/?depth=10", "/api/referrals/stats/", "/api/referrals/"]:
        c.get(path)
        times = []
        for _ in range(30):
            t = time.perf_counter()
            r = c.get(path)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(
            f"{label:15} {path:32} p50 {statistics.median(times):6.1f} ms  p95 {times[28]:6.1f} ms  status {r.status_code}"
        )
