"""The service's settings plus the two yardsticks the throughput targets are stated
against, measured beside the real endpoints to tell how fast the machine is:

- /bench/reference/: "a DRF view with a bearer token and one query makes ~2,000 req/s on
  such a machine" (issue 2);
- /bench/reference/batch/?uuids=: "a bare Django view running the same query and building
  dicts from .values() makes ~750 req/s" (issue 3).

    DJANGO_SETTINGS_MODULE=bench.reference.settings gunicorn config.wsgi -w 2 ...
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.reference.urls"
