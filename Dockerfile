# syntax=docker/dockerfile:1
# The referral service's images, built by docker-compose.yaml:
#   web (the last stage, what `docker build .` gives): gunicorn on :8000 from
#     config/gunicorn.py; compose runs the same image as `migrate` and `worker` too.
#   nginx: the official nginx image with the static files of this same build, so the two
#     can never disagree about which files a release has.

# --- build: the dependencies in a venv, the static files collected -----------------------
FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# Every pinned package ships a manylinux wheel (psycopg's carries libpq), so neither a
# compiler nor a system library is needed, here or in the final image.
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

WORKDIR /app
COPY . .
# collectstatic touches no database or cache; the settings only need some key, and this
# one lives in this command's environment alone, never in an image's. The manifest
# storage writes content-hashed copies (cached for a year) and their .gz files.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret APP_ENV=build \
        DJANGO_STATIC_MANIFEST=true DJANGO_ENV_FILE=/dev/null \
        /venv/bin/python manage.py collectstatic --noinput \
    && /venv/bin/python -m compileall -q -j 0 /app

# --- nginx: the front, serving /static/ itself ------------------------------------------
# The config is not baked in: compose mounts nginx/templates/ at /etc/nginx/templates/.
FROM nginx:1.28-alpine AS nginx
COPY --from=build /app/staticfiles /srv/static

# --- web: the app, run as an unprivileged user ---------------------------------------
FROM python:3.11-slim-bookworm AS web

ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_STATIC_MANIFEST=true \
    DATABASE_URL=sqlite:////app/data/db.sqlite3 \
    WEB_CONCURRENCY=3

# No home directory and no login shell: gunicorn's control socket, the one thing that
# would want a home, is off (config/gunicorn.py).
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin app

COPY --from=build /venv /venv
# The code and static files stay root-owned, so the app cannot rewrite them; only the
# SQLite fallback's folder is writable (compose sets Postgres).
COPY --from=build /app /app
RUN install -d -o app -g app /app/data

WORKDIR /app
USER 10001:10001
EXPOSE 8000

# Healthy once gunicorn answers HTTP at all, which needs a booted worker: the status is
# beside the point (localhost need not be in DJANGO_ALLOWED_HOSTS). Postgres and Redis
# are /api/healthcheck/'s to report, through nginx, to whatever monitors the service.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import http.client as h; c = h.HTTPConnection('127.0.0.1', 8000, timeout=4); c.request('GET', '/api/healthcheck/'); c.getresponse()"]

CMD ["gunicorn", "--config", "config/gunicorn.py"]
