# syntax=docker/dockerfile:1
# The web image: gunicorn serving config.wsgi on :8000, static files through WhiteNoise.
# Migrations are not run here (docker-compose.yml runs them before gunicorn starts).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A home directory, because gunicorn puts its control socket in ~/.gunicorn by default.
RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
# Every pinned package ships a manylinux wheel, so no compiler is needed.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# collectstatic touches no database or cache; the settings only need some key, and this
# one lives in this command's environment alone, never in the image's.
# The code stays root-owned, so the app cannot rewrite it; only the SQLite fallback's
# folder is writable, and the image points the fallback there (compose sets Postgres).
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret APP_ENV=build \
        python manage.py collectstatic --noinput \
    && install -d -o app -g app /app/data

USER app

EXPOSE 8000

# gunicorn reads its workers from WEB_CONCURRENCY and the rest from GUNICORN_CMD_ARGS, so
# `docker run`, compose and an operator's override all start the same server.
# --worker-tmp-dir: the heartbeat file on tmpfs, not the container's overlay disk.
ENV DATABASE_URL=sqlite:////app/data/db.sqlite3 \
    WEB_CONCURRENCY=3 \
    GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000 --access-logfile - --error-logfile - --timeout 30 --graceful-timeout 30 --worker-tmp-dir /dev/shm"

CMD ["gunicorn", "config.wsgi"]
