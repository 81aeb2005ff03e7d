# syntax=docker/dockerfile:1
# One image for every Simpul process (docs/deploy.md):
#   web     (default)  gunicorn backend.wsgi:application -k gthread -w 2 --threads 8 -b 0.0.0.0:8000  (HTTP)
#   ws      command:   daphne -b 0.0.0.0 -p 8001 backend.asgi:application                       (WebSockets)
#   worker  command:   celery -A backend worker -l info
#   beat    command:   celery -A backend beat -l info --schedule /var/lib/simpul/celerybeat-schedule
#   one-off command:   python manage.py migrate --noinput | prepare_calendar | createsuperuser | check --deploy
# Configuration comes from the environment at run time (docs/configuration.md); the image holds no secrets.

ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: install the pinned runtime requirements into a virtualenv -----------------------------------------
# gcc is here only in case a requirement has no wheel for the target platform; the runtime stage never sees it.
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt

# --- runtime -----------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    STATIC_ROOT=/app/staticfiles \
    SIMPUL_DATA_DIR=/var/lib/simpul

# An unprivileged user, with a fixed uid/gid (10001) so that orchestrators can verify "runs as non-root". The code
# and static files stay root-owned (read-only to the app); the data folder is the only place it writes: SQLite and
# uploads when run without configuration, and Celery beat's schedule file.
RUN groupadd --system --gid 10001 simpul \
    && useradd --system --uid 10001 --gid simpul --home-dir /home/simpul --create-home \
        --shell /usr/sbin/nologin simpul \
    && install -d -o simpul -g simpul -m 0750 /var/lib/simpul

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY . /app

# Front-end files from the npm registry (assets.json), checked against their pinned integrity hashes.
RUN python tools/fetch_assets.py

# Static files with production storage (whitenoise's CompressedManifestStaticFilesStorage writes the hashed names
# and staticfiles.json that production serves). Production settings refuse to load without their secrets, so this
# one command gets throw-away placeholders: they exist only in this RUN step, not in the image's environment.
# collectstatic opens no database or Redis connection.
RUN SIMPUL_ENV=production \
    DJANGO_DEBUG=false \
    SECRET_KEY=build-only-not-a-secret-collectstatic-placeholder-0123456789abcdef \
    JWT_SIGNING_KEY=build-only-jwt-placeholder-0123456789abcdef \
    DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 \
    ALLOWED_HOSTS=localhost \
    SMS_LOG_IN_PRODUCTION=true \
    FIELD_ENCRYPTION_KEYS=YnVpbGQtb25seS1wbGFjZWhvbGRlci1maWVsZC1rZXk= \
    NIK_HASH_KEY=build-only-nik-hash-placeholder \
    PUBLIC_BASE_URL=https://build.invalid \
    python manage.py collectstatic --noinput \
    && test -f /app/staticfiles/staticfiles.json

USER 10001:10001
EXPOSE 8000 8001

# Liveness of the web process. /healthz touches no other service. The Host header is the first entry of
# ALLOWED_HOSTS, since Django answers 400 to a host it does not serve. Worker and beat containers override this.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request as u; h = next((x.strip().lstrip('.') for x in os.environ.get('ALLOWED_HOSTS', '').split(',') if x.strip() not in ('', '*')), 'localhost'); sys.exit(0 if u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h}), timeout=4).status == 200 else 1)"]

# HTTP under gunicorn's threaded workers; one worker per core (WEB_WORKERS), never --preload (docs/serving.md).
ENV WEB_WORKERS=2 WEB_THREADS=8
CMD ["sh", "-c", "exec gunicorn backend.wsgi:application --worker-class gthread --workers \"$WEB_WORKERS\" --threads \"$WEB_THREADS\" --bind 0.0.0.0:8000 --access-logfile -"]
