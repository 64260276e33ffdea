"""Test settings: the real settings, with only speed and isolation knobs changed."""

import os

from config.settings import *  # noqa: F403
from config.settings import CACHES, REDIS_URL

# Hashing with Argon2 at production cost would dominate the suite's run time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# pytest-xdist workers each get their own test database (pytest-django); give each its
# own Redis database too, so one worker's cache.clear() cannot touch another's keys.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
if REDIS_URL:
    _base = REDIS_URL.rsplit("/", 1)[0] if REDIS_URL.count("/") > 2 else REDIS_URL
    CACHES["default"]["LOCATION"] = f"{_base}/{1 + int(_worker.removeprefix('gw')) % 15}"

# Sign-in codes go to users.sms.outbox, as Django's test runner sends mail to its outbox.
SMS_BACKEND = "users.sms.LocmemSmsBackend"
