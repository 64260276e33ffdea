"""Parallel sign-ups on one popular code, against the same number on distinct codes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/referral_popular \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/popular_code.py

An influencer's code gets thousands of sign-ups at once. This runs THREADS threads, each
on its own database connection, each signing up SIGNUPS users through the sign-up
service (users.services.accounts.user_create, with no password, so Argon2 does not hide
the database's share), first all with one unlimited code, then each thread with its own.
The two modes run back to back ROUNDS times, in alternating order (the host's speed
drifts within minutes), and the median of the rounds' ratios is printed: 1.0 means the
popular code costs nothing. The database must be
migrated and is filled with throwaway users; use a database of its own.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid

import django

THREADS = int(os.environ.get("THREADS", "16"))
SIGNUPS = int(os.environ.get("SIGNUPS", "40"))  # per thread and round
ROUNDS = int(os.environ.get("ROUNDS", "5"))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import connection
    from django.utils import timezone

    from codes.models import ReferralCode
    from users.services.accounts import user_create

    assert connection.vendor == "postgresql", "the row locks under test are Postgres'"
    run_id = uuid.uuid4().hex[:8]

    def referrer_code(name: str) -> str:
        owner = user_create(
            email=f"{name}-{run_id}@bench.example", password=None, now=timezone.now()
        )
        return ReferralCode.objects.get(owner=owner, is_active=True).code

    popular = referrer_code("influencer")
    own_codes = [referrer_code(f"referrer{index}") for index in range(THREADS)]

    def sign_ups(codes: list[str], mode: str, round_: int) -> float:
        """Sign-ups per second of THREADS threads, thread i using codes[i]."""
        barrier = threading.Barrier(THREADS + 1)
        errors: list[BaseException] = []

        def worker(index: int) -> None:
            barrier.wait()
            try:
                for number in range(SIGNUPS):
                    user_create(
                        email=f"{mode}{round_}-{index}-{number}-{run_id}@bench.example",
                        password=None,
                        referral_code=codes[index],
                        now=timezone.now(),
                    )
            except BaseException as exc:  # reported below; a failed run measures nothing
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker, args=(index,)) for index in range(THREADS)]
        for thread in threads:
            thread.start()
        barrier.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if errors:
            raise errors[0]
        return THREADS * SIGNUPS / elapsed

    sign_ups(own_codes, "warm", 0)
    rates: dict[str, list[float]] = {"one": [], "distinct": []}
    ratios = []
    for round_ in range(1, ROUNDS + 1):
        order = ("one", "distinct") if round_ % 2 else ("distinct", "one")
        for mode in order:
            codes = [popular] * THREADS if mode == "one" else own_codes
            rates[mode].append(sign_ups(codes, mode, round_))
        ratios.append(rates["one"][-1] / rates["distinct"][-1])
        print(
            f"round {round_}: one code {rates['one'][-1]:7.1f}/s, "
            f"distinct codes {rates['distinct'][-1]:7.1f}/s, ratio {ratios[-1]:.2f}"
        )
    uses = ReferralCode.objects.get(code=popular).uses
    print(f"{THREADS} threads x {SIGNUPS} sign-ups, {ROUNDS} rounds:")
    print(f"  one unlimited code  median {statistics.median(rates['one']):7.1f} sign-ups/s")
    print(f"  distinct codes      median {statistics.median(rates['distinct']):7.1f} sign-ups/s")
    print(f"  ratio, median of the rounds' {statistics.median(ratios):.2f}")
    print(f"  the popular code's uses: {uses} (expected {(ROUNDS * SIGNUPS) * THREADS})")


if __name__ == "__main__":
    main()
