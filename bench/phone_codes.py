"""Sign-in codes with known digits for the phone token benchmark (bench/phone_token.lua).

    DATABASE_URL=... PHONE_CODE_TTL=3600 .venv/bin/python bench/phone_codes.py \\
        --first 0 --count 20000 [--accounts]

Phone number `BASE + i` (+79990000000 + i) gets the code `i mod 10**6`, written as six
digits, for i in [first, first + count): a fresh valid code per request, which the wrk
script computes the same way. `--accounts` also creates a phone-only account for each
phone first, so the requests measure a sign-in (`created: false`); without it each
request creates its account (`created: true`). `--first new` starts after every
benchmark phone from NEW_FROM on that has an account or a code already (the sign-ups of
an earlier run on the same database). The last line printed is the first i.

The rows are what users.services.phone.phone_code_store writes (its hash function, its
expiry), bulk-inserted: storing 20,000 codes one transaction at a time would take
longer than the measurement. Nothing in the service reads a fixed code: only this
script, run by hand against a benchmark database, chooses the digits.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta

import django

BASE = 79990000000
BATCH = 2000
NEW_FROM = 1_000_000  # `--first new` looks from BASE + NEW_FROM on


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--first", default="0", help="a number, or `new`")
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--accounts", action="store_true")
    args = parser.parse_args()

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()

    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from users.models import PhoneCode, User
    from users.services.phone import phone_code_hash

    if args.first == "new":
        # Same-length strings: their order is the numbers'.
        taken = [
            model.objects.filter(phone__gte=f"+{BASE + NEW_FROM}", phone__lt=f"+{BASE + 10**7}")
            .order_by("-phone")
            .values_list("phone", flat=True)
            .first()
            for model in (User, PhoneCode)
        ]
        last = max((int(phone) - BASE for phone in taken if phone), default=NEW_FROM - 1)
        first = last + 1
    else:
        first = int(args.first)
    now = timezone.now()
    expires_at = now + timedelta(seconds=settings.PHONE_CODE_TTL)
    numbers = range(first, first + args.count)
    for start in range(0, len(numbers), BATCH):
        batch = numbers[start : start + BATCH]
        phones = [f"+{BASE + i}" for i in batch]
        with transaction.atomic():
            PhoneCode.objects.filter(phone__in=phones).delete()
            if args.accounts:
                User.objects.bulk_create(
                    [
                        # What user_create stores for a phone-only root account (its
                        # first referral code aside, which sign-in never reads).
                        User(phone=phone, password=make_password(None), date_joined=now)
                        for phone in phones
                    ],
                    ignore_conflicts=True,
                )
            PhoneCode.objects.bulk_create(
                PhoneCode(
                    phone=phone,
                    code_hash=phone_code_hash(phone=phone, code=f"{i % 10**6:06d}"),
                    created_at=now,
                    expires_at=expires_at,
                )
                for phone, i in zip(phones, batch, strict=True)
            )
    print(f"{args.count} codes from +{BASE + first}, valid until {expires_at:%H:%M:%S} UTC")
    print(first)


if __name__ == "__main__":
    main()
