"""Settings for the referral service.

Every knob reads the environment (or `.env`) with its local-development default written
beside it, so a fresh clone runs with no configuration at all: SQLite and Django's
database cache. `DATABASE_URL` and `REDIS_URL` switch to Postgres and Redis.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from common.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Real environment variables always win over the file (environ does not overwrite them).
environ.Env.read_env(env.str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env")))


def set_explicitly(name: str) -> bool:
    """Whether the operator named `name` in the environment or in `.env` (which read_env
    copies into the environment), rather than leaving it to its default. Production
    accepts a few defaults that only suit development (mail or SMS printed to the log)
    when they were asked for by name."""
    return name in os.environ


APP_ENV = env.str("APP_ENV", default="local")  # local | test | production
PRODUCTION = APP_ENV == "production"
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY", default="django-insecure-dev-only-never-use-in-production"
)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
if PRODUCTION and (SECRET_KEY.startswith("django-insecure-") or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be a random string of 50 or more characters in production"
    )
if PRODUCTION and len(env.str("JWT_SIGNING_KEY", default=SECRET_KEY)) < 50:
    raise ImproperlyConfigured("JWT_SIGNING_KEY, when set, must be 50 or more characters")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production")
# The admin's session and CSRF cookies travel over HTTPS only, in production; set false
# for a deployment reached over plain HTTP on anything but localhost.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=PRODUCTION)
# Strict-Transport-Security, once the site is served over HTTPS for good: browsers then
# refuse plain HTTP to it for this many seconds, which cannot be taken back early.
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
# TLS ends at the proxy in front of nginx, which is where plain HTTP is redirected; this
# turns on Django's own redirect as well (it trusts X-Forwarded-Proto, below). The
# healthcheck and /metrics stay reachable over plain HTTP from inside the network.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^api/healthcheck/$", r"^metrics$"]
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Behind nginx the original scheme arrives in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "config.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "djoser",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "rest_framework_api_key",
    "django_guid",
    "corsheaders",
    "django_prometheus",
    # Before django_tasks_db: its `db_worker` is common's (management/commands).
    "common",
    "django_tasks",
    "django_tasks_db",
    "users",
    "codes",
    "referral",
    "sync",
    "social",
]

MIDDLEWARE = [
    # Outermost: the request id and the access log line cover every answer, errors from
    # the middleware below included (a 413, a 404 outside DRF, a 500).
    "common.middleware.RequestLogMiddleware",
    "django_guid.middleware.guid_middleware",
    "common.metrics.RequestMetricsMiddleware",
    # Before anything that may answer on its own (CommonMiddleware, WhiteNoise).
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "common.middleware.RequestBodyLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# A database that stops answering must not hold requests (and gunicorn's workers) for
# as long as it hangs: connecting gives up after DJANGO_DB_CONNECT_TIMEOUT seconds, a
# statement after DJANGO_DB_STATEMENT_TIMEOUT_MS (0: no limit), cancelled by Postgres;
# a reused connection that no longer answers fails its check within a connect timeout
# (common.postgres). Longer work sets its own limit (common.db.statement_timeout): the
# change-queue export, and the management commands that rewrite large tables.
DATABASE_CONNECT_TIMEOUT = env.int("DJANGO_DB_CONNECT_TIMEOUT", default=3)
DATABASE_STATEMENT_TIMEOUT_MS = env.int("DJANGO_DB_STATEMENT_TIMEOUT_MS", default=5000)
DATABASE_COMMAND_STATEMENT_TIMEOUT_MS = env.int(
    "DJANGO_DB_COMMAND_STATEMENT_TIMEOUT_MS", default=60 * 60 * 1000
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # django-prometheus' wrapper of the same engine counts queries and their latency.
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.sqlite3"
    # Django's default test database for SQLite, said out loud: pytest-django recognises
    # only the stock engine's name, and would give each worker a file named after ours.
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
    # Several gunicorn workers share the file: WAL lets readers run beside the writer, and
    # IMMEDIATE transactions take the write lock up front instead of failing half-way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # Postgres, with query metrics and the timeouts above.
    DATABASES["default"]["ENGINE"] = "common.postgres"
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = DATABASE_CONNECT_TIMEOUT
    if DATABASE_STATEMENT_TIMEOUT_MS:
        # Behind PgBouncer, add `options` to its ignore_startup_parameters, or set the
        # limit on the database role instead and this to 0.
        DATABASES["default"]["OPTIONS"]["options"] = (
            f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}"
        )
    # Persistent connections: opening one per request makes the API several times slower.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Server-side binding lets psycopg prepare a statement that a connection runs for the
    # fifth time; Postgres then skips parsing and planning it, which was two thirds of its
    # CPU per API request (bench/README.md). Turn it off behind a pooler that cannot keep
    # prepared statements (PgBouncer before 1.21 in transaction mode).
    if env.bool("DJANGO_DB_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": 5}
        )
ATOMIC_REQUESTS = False  # services are the transaction boundary (STYLE.md §2)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "common.cache.ReusingRedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that stops answering fails the request (503) after 2 s, never
            # retried (redis-py's pools retry nothing unless asked).
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    # The database cache is shared by every worker process, unlike the local-memory one,
    # so cache invalidation and throttling still hold under gunicorn.
    CACHES = {
        "default": {
            "BACKEND": "common.cache.AtomicDatabaseCache",
            "LOCATION": "django_cache",
            # Above MAX_ENTRIES Django deletes a third of the live entries, throttle
            # counters included; Django's 300 would let a few hundred clients reset them.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# --- Users and passwords --------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
# Email is unique case-insensitively (users_user_email_ci_unique on Lower(email)), which
# this check does not recognise; a plain unique index beside it would be redundant.
SILENCED_SYSTEM_CHECKS = [
    "auth.E003",
    # SQLite builds indexes without their INCLUDE columns (referral_tree_downline_idx,
    # users_user_joined_idx); Postgres uses them.
    "models.W040",
]
# check --deploy: HTTPS is the proxy's in front (README), and the two knobs below are the
# operator's to turn on once it is final; Django's warnings would only repeat that.
if not SECURE_HSTS_SECONDS:
    SILENCED_SYSTEM_CHECKS.append("security.W004")
if not SECURE_SSL_REDIRECT:
    SILENCED_SYSTEM_CHECKS.append("security.W008")
PASSWORD_HASHERS = [
    "common.hashers.Argon2idOwaspHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="RU")

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# The contract renders every time in UTC; the API's datetime format depends on it.
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Content-hashed names (base.5af66c1b1797.css) that nginx and WhiteNoise let browsers keep
# for a year. Pages then need the manifest collectstatic writes, which `make run` and the
# tests never run: on in the image only.
_STATIC_MANIFEST = env.bool("DJANGO_STATIC_MANIFEST", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _STATIC_MANIFEST
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
# Serve straight from the apps' folders when `collectstatic` has not been run (make run, tests).
WHITENOISE_USE_FINDERS = True

# --- Request limits -------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # 413 above this (API.md)

# --- Email ----------------------------------------------------------------------------
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="referrals@localhost")
_EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "common.email_backends.ConsoleEmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
_email_backend = env.str("EMAIL_BACKEND", default="smtp" if EMAIL_HOST else "console")
if _email_backend not in _EMAIL_BACKENDS:
    raise ImproperlyConfigured(f"EMAIL_BACKEND must be one of {', '.join(_EMAIL_BACKENDS)}")
# The console backend prints every email to the log, where whoever reads the log could
# take over accounts with the reset links: production never falls back to it for want of
# EMAIL_HOST. Asked for by name, it prints with links and codes masked.
if PRODUCTION and _email_backend != "smtp" and not set_explicitly("EMAIL_BACKEND"):
    raise ImproperlyConfigured(
        "Set EMAIL_HOST (SMTP) in production, or EMAIL_BACKEND=console to print emails, "
        "links and codes masked, to the log"
    )
EMAIL_BACKEND = _EMAIL_BACKENDS[_email_backend]
# Mail is sent by the task worker (common.emails). A mail server that is unreachable or
# answers "try later" (4xx) is tried again, at pauses growing to an hour, for this long
# after the request; then the message is given up, with a line in the log.
EMAIL_RETRY_HOURS = env.int("EMAIL_RETRY_HOURS", default=24)

# --- Background tasks -----------------------------------------------------------------
# Django's Tasks API (the django-tasks backport until Django 6) with its database backend:
# a task is a row written in the transaction that queues it, so it exists exactly when
# that transaction commits. `manage.py db_worker` runs them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# The healthcheck answers 503 once a task that is due has waited longer than this: no
# worker is running, or it cannot keep up.
TASKS_STALE_SECONDS = env.int("TASKS_STALE_SECONDS", default=300)
# A task still running this long after a worker claimed it was left by a worker that was
# killed; a starting worker queues it again. Far above any task's run (an email's SMTP
# exchange ends within EMAIL_TIMEOUT).
TASKS_RUNNING_TIMEOUT = env.int("TASKS_RUNNING_TIMEOUT", default=600)

# --- SMS (phone sign-in codes) ----------------------------------------------------------
# Shaped like EMAIL_BACKEND: a short name, resolved to a class of users.sms.
_SMS_BACKENDS = {
    "console": "users.sms.ConsoleSmsBackend",
    "locmem": "users.sms.LocmemSmsBackend",
    "http": "users.sms.HttpSmsBackend",
}
_sms_backend = env.str("SMS_BACKEND", default="console")
if _sms_backend not in _SMS_BACKENDS:
    raise ImproperlyConfigured(f"SMS_BACKEND must be one of {', '.join(_SMS_BACKENDS)}")
# The console backend prints every sign-in code to the server's output, where anyone who
# reads logs could take over accounts; locmem keeps them in memory and sends nothing.
if PRODUCTION and _sms_backend in ("console", "locmem") and not set_explicitly("SMS_BACKEND"):
    raise ImproperlyConfigured(
        "SMS_BACKEND must be set in production: http (with SMS_HTTP_URL), or console "
        "explicitly, which then masks the codes it prints"
    )
SMS_BACKEND = _SMS_BACKENDS[_sms_backend]
SMS_HTTP_URL = env.str("SMS_HTTP_URL", default="")
SMS_HTTP_TOKEN = env.str("SMS_HTTP_TOKEN", default="")
SMS_HTTP_TIMEOUT = env.float("SMS_HTTP_TIMEOUT", default=5.0)  # connect, and each read
if _sms_backend == "http" and not SMS_HTTP_URL:
    raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_HTTP_URL")
PHONE_CODE_LENGTH = env.int("PHONE_CODE_LENGTH", default=6)
PHONE_CODE_TTL = env.int("PHONE_CODE_TTL", default=300)
PHONE_CODE_RESEND = env.int("PHONE_CODE_RESEND", default=60)
if not 4 <= PHONE_CODE_LENGTH <= 10:
    raise ImproperlyConfigured("PHONE_CODE_LENGTH must be 4 to 10 digits")

# --- Email deliverability (Hunter.io) -------------------------------------------------
HUNTER_API_KEY = env.str("HUNTER_API_KEY", default="")
HUNTER_API_URL = env.str("HUNTER_API_URL", default="https://api.hunter.io/v2/email-verifier")
HUNTER_TIMEOUT = env.float("HUNTER_TIMEOUT", default=3.0)
HUNTER_CACHE_SECONDS = env.int("HUNTER_CACHE_SECONDS", default=24 * 60 * 60)

# --- Referral codes and the tree ------------------------------------------------------
REFERRAL_CODE_ON_SIGNUP = env.bool("REFERRAL_CODE_ON_SIGNUP", default=True)
REFERRAL_CODE_LENGTH = env.int("REFERRAL_CODE_LENGTH", default=8)
# The link users share: the service's own /r/<code>/, which counts the click and sends on
# to REFERRAL_LANDING_URL (the frontend's sign-up page; empty: the service's /invite/).
SHARE_URL_TEMPLATE = env.str("SHARE_URL_TEMPLATE", default="http://127.0.0.1:8000/r/{code}/")
REFERRAL_LANDING_URL = env.str("REFERRAL_LANDING_URL", default="")
CODES_CACHE_SECONDS = env.int("CODES_CACHE_SECONDS", default=60 * 60)
# The materialized path is indexed by a btree, whose entries are limited to ~2.7 kB.
REFERRAL_MAX_DEPTH = env.int("REFERRAL_MAX_DEPTH", default=250)
# Referred sign-ups that look like self-referral (referral.abuse) are flagged for staff to
# review ("flag"), or their invite code is refused with 400 referral_refused ("block").
REFERRAL_ABUSE_POLICY = env.str("REFERRAL_ABUSE_POLICY", default="flag")
if REFERRAL_ABUSE_POLICY not in ("flag", "block"):
    raise ImproperlyConfigured("REFERRAL_ABUSE_POLICY must be flag or block")
# More sign-ups than this with one code from one network within the window: a burst.
REFERRAL_ABUSE_BURST_MAX = env.int("REFERRAL_ABUSE_BURST_MAX", default=3)
REFERRAL_ABUSE_BURST_WINDOW = env.int("REFERRAL_ABUSE_BURST_WINDOW", default=60 * 60)

# --- Change queue for the tree service ----------------------------------------------
API_KEY_CUSTOM_HEADER = "HTTP_X_API_KEY"  # djangorestframework-api-key reads X-API-Key
# A verified key is remembered this long (and forgotten at once when revoked or changed).
SYNC_API_KEY_CACHE_SECONDS = env.int("SYNC_API_KEY_CACHE_SECONDS", default=60)
SYNC_EXPORT_CHUNK_SIZE = env.int("SYNC_EXPORT_CHUNK_SIZE", default=5000)
# The export reads the whole queue (a million users: a few seconds), past a request's limit.
SYNC_EXPORT_STATEMENT_TIMEOUT_MS = env.int("SYNC_EXPORT_STATEMENT_TIMEOUT_MS", default=60_000)

# --- DRF ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["common.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "common.api.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": [
        "common.throttles.AnonThrottle",
        "common.throttles.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="300/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        "register": env.str("THROTTLE_REGISTER", default="30/hour"),
        "login": env.str("THROTTLE_LOGIN", default="20/min"),
        "phone_code": env.str("THROTTLE_PHONE_CODE", default="10/hour"),
        "code_lookup": env.str("THROTTLE_CODE_LOOKUP", default="60/min"),
        "send_email": env.str("THROTTLE_SEND_EMAIL", default="5/hour"),
        "sync": env.str("THROTTLE_SYNC", default="600/min"),
    },
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "common.openapi.AutoSchema",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S+00:00",  # valid because TIME_ZONE is UTC
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "common.api.ExceptionHandler",
    "EXCEPTION_FORMATTER_CLASS": "common.api.ExceptionFormatter",
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    # 503: any endpoint, when Postgres or Redis is unreachable (common.api.ExceptionHandler).
    "ALLOWED_ERROR_STATUS_CODES": [
        "400",
        "401",
        "403",
        "404",
        "405",
        "413",
        "415",
        "429",
        "500",
        "503",
    ],
    "ERROR_SCHEMAS": {
        "401": "common.openapi.ErrorResponse401Serializer",
        "413": "common.openapi.ErrorResponse413Serializer",
        "503": "common.openapi.ErrorResponse503Serializer",
    },
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Integer ids never leave the server, and a JWT payload is readable by its holder.
    "USER_ID_FIELD": "uuid",
    "USER_ID_CLAIM": "user_id",
    # Tokens carry a digest of the password hash: changing the password ends them all.
    "CHECK_REVOKE_TOKEN": True,
    "TOKEN_OBTAIN_SERIALIZER": "users.serializers.TokenCreateInputSerializer",
    "TOKEN_REFRESH_SERIALIZER": "users.tokens.TokenRefreshInputSerializer",
    "TOKEN_VERIFY_SERIALIZER": "users.tokens.TokenVerifyInputSerializer",
}

# djoser renders the password-reset email (users.emails); the endpoints are ours. The
# link is {protocol}://{domain}/{PASSWORD_RESET_CONFIRM_URL}: the frontend's page, which
# posts uid and token to /api/users/reset_password_confirm/. Empty protocol and domain:
# the scheme and host the reset request came in on.
DJOSER = {
    "PASSWORD_RESET_CONFIRM_URL": env.str(
        "DJOSER_PASSWORD_RESET_CONFIRM_URL", default="password/reset/confirm/{uid}/{token}"
    ),
    "EMAIL_FRONTEND_PROTOCOL": env.str("DJOSER_EMAIL_FRONTEND_PROTOCOL", default=""),
    "EMAIL_FRONTEND_DOMAIN": env.str("DJOSER_EMAIL_FRONTEND_DOMAIN", default=""),
    "EMAIL_FRONTEND_SITE_NAME": env.str("DJOSER_EMAIL_FRONTEND_SITE_NAME", default=""),
}
# At most one reset email per address in this many seconds: the endpoint is anonymous,
# and its per-IP throttle alone would let anyone flood one inbox.
PASSWORD_RESET_EMAIL_INTERVAL = env.int("PASSWORD_RESET_EMAIL_INTERVAL", default=60)

_ERROR_ENUMS = "drf_standardized_errors.openapi_serializers"
SPECTACULAR_SETTINGS = {
    "TITLE": "Referral service API",
    "DESCRIPTION": (
        "Accounts, referral codes, the referral tree and its change queue.\n\n"
        "Bodies are JSON. Clients authenticate with `Authorization: Bearer <access>` (from "
        "`POST /api/auth/jwt/create/`); the tree service with `X-API-Key`. Every error, on "
        'every path, has one shape: `{"type", "errors": [{"code", "detail", '
        '"attr"}]}`, with a stable machine `code`, `detail` in English or Russian '
        "(`Accept-Language`) and the field in `attr` (null for the request as a whole). "
        "Lists are paged with `page` and `page_size` (20 by default, at most 100). Every "
        "answer carries `X-Request-ID`: quote it when reporting a problem."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "TAGS": [
        {
            "name": "Accounts",
            "description": "Sign-up, the signed-in user's profile, passwords and their reset.",
        },
        {
            "name": "Authentication",
            "description": "JWT: an access token (15 minutes) for `Authorization: Bearer`, "
            "a refresh token (7 days) to get new ones; each refresh token works once.",
        },
        {
            "name": "Referral codes",
            "description": "A user's codes (one active at a time) and the public lookup a "
            "sign-up page uses to show who invited the visitor.",
        },
        {
            "name": "Referrals",
            "description": "The referral tree around the signed-in user: direct referrals, "
            "the downline by level, counts and the upline; entering an invite code later.",
        },
        {
            "name": "Change queue",
            "description": "For the tree service (`X-API-Key`): which users changed since a "
            "time, and those users as it sees them.",
        },
        {
            "name": "Share links",
            "description": "The links users share (`share_url`): each visit is counted and "
            "sent on to the sign-up page with the code.",
        },
        {
            "name": "Social accounts",
            "description": "The signed-in user's linked accounts on other networks.",
        },
        {
            "name": "Staff",
            "description": "For staff bearer tokens: restoring and erasing accounts.",
        },
        {"name": "Operations", "description": "Health of the service and its dependencies."},
    ],
    "SCHEMA_PATH_PREFIX": r"/api/",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # drf-standardized-errors' enums, named once each (its error codes per status; 401 is
    # ours: simplejwt's codes too).
    "ENUM_NAME_OVERRIDES": {
        **{
            name: f"{_ERROR_ENUMS}.{name}.choices"
            for name in ("ValidationErrorEnum", "ClientErrorEnum", "ServerErrorEnum")
        },
        **{
            f"ErrorCode{status}Enum": f"{_ERROR_ENUMS}.ErrorCode{status}Enum.choices"
            for status in (403, 404, 405, 406, 415, 429, 500)
        },
        "ErrorCode401Enum": "common.openapi.ERROR_401_CODE_CHOICES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "common.openapi.non_field_errors_attr_null",
    ],
}

# --- Request ids, CORS, metrics ---------------------------------------------------
# django-guid: X-Request-ID in, out and on every log line (common.middleware keeps only
# ids of safe characters; a missing or refused one is generated as 32 hex digits).
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": False,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": False,  # CORS_EXPOSE_HEADERS says it, beside Retry-After
    "UUID_LENGTH": 32,
}
# Web clients on these origins may call the API from a browser. Bearer tokens travel in
# a header, never in cookies, so no credentials are allowed (and no wildcard is needed).
CORS_ALLOWED_ORIGINS = env.list("DJANGO_CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = ["authorization", "content-type", "accept-language", "x-request-id"]
CORS_EXPOSE_HEADERS = ["x-request-id", "retry-after"]
CORS_ALLOW_CREDENTIALS = False
# prometheus_client's multiprocess mode: every gunicorn worker writes its samples to
# files here and /metrics adds them up (common.metrics). Empty: one process, in memory.
# gunicorn's on_starting hook (common.gunicorn_hooks) empties it, or makes one when unset.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")

# --- Logging --------------------------------------------------------------------------
# JSON lines on stdout, and in LOG_FILE too when set (reopened when logrotate moves it),
# personal data masked (common.logging).
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FILE = env.str("LOG_FILE", default="")
# An outage of the database or the cache is logged once per this many seconds, with the
# number of failed requests since, not with a traceback per request.
LOG_DEPENDENCY_FAILURE_SECONDS = env.int("LOG_DEPENDENCY_FAILURE_SECONDS", default=10)
LOGGING = logging_config(level=LOG_LEVEL, file=LOG_FILE)
