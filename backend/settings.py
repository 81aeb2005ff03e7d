"""Django settings for Simpul, read from the environment (docs/configuration.md lists every variable).

With nothing set, this is the embedded default that `make run` serves: SQLite and uploads in a data folder outside the
code tree, an in-memory channel layer and cache, Celery tasks run eagerly, SMS and push written to the log.
`SIMPUL_ENV=production` turns on the production rules: required secrets and services, HTTPS-only cookies, HSTS, no
introspection. Every problem found is reported together, as one message (backend.config.ConfigError).
"""

import base64
import hashlib
from pathlib import Path

import dj_database_url

from backend.config import ConfigError, Env, default_data_dir, describe_url

env = Env()

BASE_DIR = Path(__file__).resolve().parent.parent
SIMPUL_ENV = env.str("SIMPUL_ENV", "development").strip().lower()
if SIMPUL_ENV not in {"development", "production"}:
    env.problems.append(f"SIMPUL_ENV must be development or production, not {SIMPUL_ENV!r}")
PRODUCTION = SIMPUL_ENV == "production"

DATA_DIR = env.path("SIMPUL_DATA_DIR", default_data_dir())
DEBUG = env.bool("DJANGO_DEBUG", not PRODUCTION)
if PRODUCTION and DEBUG:
    env.problems.append("DJANGO_DEBUG must be off in production")

_DEV_SECRET = "dev-only-insecure-secret-key-do-not-use-in-production-simpul-0123456789"
SECRET_KEY = (
    env.require("SECRET_KEY", "signs sessions and one-time codes") if PRODUCTION else env.str("SECRET_KEY", _DEV_SECRET)
)
if PRODUCTION and SECRET_KEY and (len(SECRET_KEY) < 50 or SECRET_KEY == _DEV_SECRET):
    env.problems.append("SECRET_KEY must be a random string of at least 50 characters")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    env.problems.append("ALLOWED_HOSTS is required in production (comma-separated host names)")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "graphene_django",
    "backend.regions",
    "backend.accounts",
    "backend.cases",
    "backend.complaints",
    "backend.permits",
    "backend.integrations",
    "backend.work",
    "backend.demo",
    "notifications",
    "notifications.webhooks",
    "media",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "backend.urls"
ASGI_APPLICATION = "backend.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],  # the project's own versions of other apps' templates
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

# --- Database ---------------------------------------------------------------------------------------------------
# PostgreSQL in production; SQLite (WAL, immediate transactions) in the embedded default. Under ASGI every request
# runs its sync code on a fresh thread, so Django's persistent connections (CONN_MAX_AGE) would open one connection
# per request and never reuse it: on PostgreSQL we use psycopg's pool instead (docs/serving.md).
DATABASE_URL = env.str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'simpul.sqlite3'}"
if PRODUCTION and not env.str("DATABASE_URL"):
    env.problems.append("DATABASE_URL is required in production (postgres://user:password@host:5432/name)")
try:
    _db = dj_database_url.parse(DATABASE_URL)
except ValueError as exc:
    env.problems.append(f"DATABASE_URL is not a database URL ({exc})")
    _db = dj_database_url.parse(f"sqlite:///{DATA_DIR / 'simpul.sqlite3'}")
if _db["ENGINE"] == "django.db.backends.postgresql":
    # Every connection is checked as it leaves the pool or is reused: one that PostgreSQL ended (a restart, a
    # failover, pg_terminate_backend) is replaced instead of failing the request that drew it
    # (tests/notifications/test_drills.py).
    _db["CONN_HEALTH_CHECKS"] = True
    if env.bool("DATABASE_POOL", True):
        _db["CONN_MAX_AGE"] = 0
        _db.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", 2, minimum=0),
            "max_size": env.int("DATABASE_POOL_MAX", 10, minimum=1),
            "timeout": env.int("DATABASE_POOL_TIMEOUT", 10, minimum=1),
        }
    else:
        _db["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    _db.setdefault("OPTIONS", {})["connect_timeout"] = env.int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1)
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    if PRODUCTION and env.str("DATABASE_URL"):
        env.problems.append("DATABASE_URL must point at PostgreSQL in production, not SQLite")
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, Celery broker ------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL")
if PRODUCTION and not REDIS_URL:
    env.problems.append("REDIS_URL is required in production (cache, rate limits, WebSocket groups, Celery)")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "backend.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", "simpul"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    # A consumer's receive is BZPOPMIN blocking up to channels-redis's `brpop_timeout` (5 s) on the server. redis-py
    # gives every read `socket_timeout` (5 s by default since redis-py 6), so an idle receive timed out on the client
    # just as the server answered and Channels closed the socket with 1011. Reads here wait longer than the block
    # (tests/notifications/test_soak.py keeps sockets idle past every timeout); connecting still fails fast.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": env.int("CHANNEL_LAYER_READ_TIMEOUT_SECONDS", 15, minimum=6),
                        "socket_connect_timeout": 2,
                        "socket_keepalive": True,
                    }
                ],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", "simpul"),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "simpul"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# A request that changes a case hands its notifications to the broker after commit; with Redis down that must fail
# fast (the outbox sweep sends them later), not hold the request.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_BEAT_SCHEDULE = {
    "sweep-overdue-cases": {"task": "cases.sweep_overdue", "schedule": env.int("SLA_SWEEP_SECONDS", 300, minimum=30)},
    "sweep-outbox": {"task": "notifications.sweep_outbox", "schedule": env.int("OUTBOX_SWEEP_SECONDS", 15, minimum=1)},
    "flag-deemed-approvals": {"task": "permits.flag_deemed_approvals", "schedule": 3600},
    "prepare-calendar": {"task": "regions.prepare_calendar", "schedule": 86400},
    "sweep-webhooks": {"task": "webhooks.sweep", "schedule": env.int("WEBHOOK_SWEEP_SECONDS", 5, minimum=1)},
    "purge-webhooks": {"task": "webhooks.purge", "schedule": 3600},
}
if PRODUCTION and REDIS_URL and CELERY_TASK_ALWAYS_EAGER:
    env.problems.append("CELERY_TASK_ALWAYS_EAGER must be off in production (tasks belong on a worker)")

# --- E-mail: the notices of a disabled webhook endpoint ------------------------------------------------------------
EMAIL_HOST = env.str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env.int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", True)
else:  # written to the log, like SMS and pushes without a provider
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "simpul@localhost")

# --- Webhooks (notifications/webhooks, docs/webhooks.md) ----------------------------------------------------------
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", 15, minimum=1)
WEBHOOK_ENDPOINT_CONCURRENCY = env.int("WEBHOOK_ENDPOINT_CONCURRENCY", 25, minimum=1)
WEBHOOK_DISABLE_AFTER_HOURS = env.int("WEBHOOK_DISABLE_AFTER_HOURS", 5 * 24, minimum=1)
WEBHOOK_RETENTION_DAYS = env.int("WEBHOOK_RETENTION_DAYS", 30, minimum=1)
WEBHOOK_SECRET_GRACE_HOURS = env.int("WEBHOOK_SECRET_GRACE_HOURS", 24, minimum=0)
# Hosts (names, addresses or networks) webhooks may reach although they are private or loopback, and by plain http.
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", [])
WEBHOOK_RESOLVER = env.str("WEBHOOK_RESOLVER", "socket.getaddrinfo")
# The API's module that checks and runs endpoints' subscription documents (the delivery layer names it, as the core
# names OUTBOX_HANDOFF): wiring, not a setting to change.
WEBHOOK_DOCUMENTS = "schema.webhooks"

# --- Files -------------------------------------------------------------------------------------------------------
MEDIA_ROOT = env.path("MEDIA_ROOT", DATA_DIR / "media")
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", BASE_DIR / "staticfiles")
# Front-end files from the npm registry, taken at install time by tools/fetch_assets.py (assets.json).
STATICFILES_DIRS = [("vendor", BASE_DIR / "var" / "assets")]
# How long a photo's URL works (S3 presigned or signed local), and the limits on uploads.
MEDIA_URL_SECONDS = env.int("MEDIA_URL_SECONDS", 600, minimum=30)
MEDIA_MAX_BYTES = env.int("MEDIA_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
MEDIA_MAX_PIXELS = env.int("MEDIA_MAX_PIXELS", 50_000_000, minimum=10_000)
MEDIA_MAX_PHOTOS = env.int("MEDIA_MAX_PHOTOS", 5, minimum=1)
# A multipart request (the GraphQL multipart request spec) may carry that many photos plus its fields.
GRAPHQL_MAX_UPLOAD_BYTES = MEDIA_MAX_PHOTOS * MEDIA_MAX_BYTES + 256 * 1024
S3_BUCKET = env.str("S3_BUCKET")
if S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env.str("S3_ENDPOINT_URL") or None,
            "region_name": env.str("S3_REGION") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": MEDIA_URL_SECONDS,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": MEDIA_ROOT}}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Accounts and authentication ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["backend.accounts.backends.StaffLoginBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

JWT_SIGNING_KEY = (
    env.require("JWT_SIGNING_KEY", "signs access tokens") if PRODUCTION else env.str("JWT_SIGNING_KEY", SECRET_KEY)
)
if PRODUCTION and JWT_SIGNING_KEY and len(JWT_SIGNING_KEY) < 32:
    env.problems.append("JWT_SIGNING_KEY must be at least 32 characters")
# Keys that still verify (not sign) during a rotation: comma-separated.
JWT_PREVIOUS_SIGNING_KEYS = env.list("JWT_PREVIOUS_SIGNING_KEYS")
JWT_ISSUER = env.str("JWT_ISSUER", "simpul")
JWT_ACCESS_TTL_SECONDS = env.int("JWT_ACCESS_TTL_SECONDS", 15 * 60, minimum=60)
JWT_REFRESH_TTL_SECONDS = env.int("JWT_REFRESH_TTL_SECONDS", 30 * 24 * 3600, minimum=3600)

OTP_LENGTH = env.int("OTP_LENGTH", 6, minimum=4)
OTP_TTL_SECONDS = env.int("OTP_TTL_SECONDS", 5 * 60, minimum=30)
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", 5, minimum=1)
OTP_RESEND_SECONDS = env.int("OTP_RESEND_SECONDS", 60, minimum=0)
OTP_PER_PHONE_PER_HOUR = env.int("OTP_PER_PHONE_PER_HOUR", 5, minimum=1)
# Per-address limits are generous: Indonesian mobile carriers put many subscribers behind one address (CGNAT).
# The per-number limits, the allowed countries and the five tries per code are the real guards.
OTP_PER_IP_PER_HOUR = env.int("OTP_PER_IP_PER_HOUR", 120, minimum=1)
OTP_VERIFY_PER_IP_PER_HOUR = env.int("OTP_VERIFY_PER_IP_PER_HOUR", 300, minimum=1)
# Countries whose numbers may receive one-time codes (ISO 3166 alpha-2): guards against SMS pumping.
PHONE_DEFAULT_REGION = "ID"
OTP_ALLOWED_COUNTRIES = env.list("OTP_ALLOWED_COUNTRIES", ["ID"])
LOGIN_PER_IP_PER_HOUR = env.int("LOGIN_PER_IP_PER_HOUR", 300, minimum=1)
LOGIN_PER_ACCOUNT_PER_HOUR = env.int("LOGIN_PER_ACCOUNT_PER_HOUR", 10, minimum=1)
# How many reverse proxies in front of the app append to X-Forwarded-For (0: use the socket's address).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 0, minimum=0)


# --- Permits: personal data (NIK) encrypted at rest ---------------------------------------------------------------
# Fernet keys (urlsafe base64 of 32 bytes), comma-separated: the first encrypts, all decrypt. Rotate by putting a new
# key first, running `manage.py rotate_field_keys`, then dropping the old one. The same command re-computes the NIK
# look-up hashes, so NIK_HASH_KEY can be changed the same way.
def _dev_key(purpose: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(f"{purpose}:{SECRET_KEY}".encode()).digest()).decode()


FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", [] if PRODUCTION else [_dev_key("field-encryption")])
if PRODUCTION and not FIELD_ENCRYPTION_KEYS:
    env.problems.append("FIELD_ENCRYPTION_KEYS is required in production (encrypts NIKs; Fernet keys, comma-separated)")
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        if len(base64.urlsafe_b64decode(_key.encode())) != 32:
            raise ValueError
    except ValueError:
        env.problems.append(
            "FIELD_ENCRYPTION_KEYS: each key must be urlsafe base64 of 32 bytes (Fernet.generate_key())"
        )
        break
NIK_HASH_KEY = (
    env.require("NIK_HASH_KEY", "keys the NIK look-up hash")
    if PRODUCTION
    else env.str("NIK_HASH_KEY", _dev_key("nik-hash"))
)
# The public address of the permit verification page, printed (and QR-coded) on certificates.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
if PRODUCTION and not PUBLIC_BASE_URL.startswith("https://"):
    env.problems.append("PUBLIC_BASE_URL must be the https:// address residents reach (printed on certificates)")
# The payment gateway's callback signs its body with this secret (HMAC-SHA256); empty: no callback accepted.
PAYMENT_CALLBACK_SECRET = env.str("PAYMENT_CALLBACK_SECRET")

# --- Notifications: the outbox and push ---------------------------------------------------------------------------
# On: a change's transaction NOTIFYs the outbox relay (a thread of every Celery worker) of its rows; off: the process
# that made the change hands them on after COMMIT itself (docs/realtime.md).
_postgres = _db["ENGINE"] == "django.db.backends.postgresql"
OUTBOX_RELAY = env.bool("OUTBOX_RELAY", _postgres and not CELERY_TASK_ALWAYS_EAGER)
if OUTBOX_RELAY and not _postgres:
    env.problems.append("OUTBOX_RELAY needs PostgreSQL (it listens for NOTIFY)")
# Where the core and accounts reach the delivery layer without importing it (project wiring, not configuration).
OUTBOX_HANDOFF = "notifications.tasks.hand_off"  # without the relay: rows handed on after COMMIT
ACCOUNT_EFFECTS = "notifications.accounts"  # SMS, closing a revoked session's sockets
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", 60, minimum=5)
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", 10, minimum=1)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", 900, minimum=1)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", 12, minimum=1)
FIREBASE_CREDENTIALS = env.str("FIREBASE_CREDENTIALS")
FCM_ENDPOINT = env.str("FCM_ENDPOINT", "https://fcm.googleapis.com")
FCM_TIMEOUT_SECONDS = env.int("FCM_TIMEOUT_SECONDS", 10, minimum=1)
if not FCM_ENDPOINT.startswith(("https://", "http://")):
    env.problems.append("FCM_ENDPOINT must be an http(s) URL")
_credentials_json = FIREBASE_CREDENTIALS.lstrip().startswith("{")
if FIREBASE_CREDENTIALS and not _credentials_json and not Path(FIREBASE_CREDENTIALS).is_file():
    env.problems.append("FIREBASE_CREDENTIALS must be a service account's JSON or the path of its file")

# --- WebSocket (GraphQL subscriptions over graphql-transport-ws) -------------------------------------------------
GRAPHQL_WS_INIT_TIMEOUT_SECONDS = env.int("GRAPHQL_WS_INIT_TIMEOUT_SECONDS", 10, minimum=1)
GRAPHQL_WS_MAX_SUBSCRIPTIONS = env.int("GRAPHQL_WS_MAX_SUBSCRIPTIONS", 20, minimum=1)
GRAPHQL_WS_SESSION_CHECK_SECONDS = env.int("GRAPHQL_WS_SESSION_CHECK_SECONDS", 60, minimum=5)
# Under nginx's 60 s proxy_read_timeout and the idle timeouts of common load balancers; 0 sends no pings.
GRAPHQL_WS_KEEPALIVE_SECONDS = env.int("GRAPHQL_WS_KEEPALIVE_SECONDS", 25, minimum=0)
GRAPHQL_WS_REPLAY_LIMIT = env.int("GRAPHQL_WS_REPLAY_LIMIT", 200, minimum=1)
GRAPHQL_WS_REPLAY_MAX_AGE_SECONDS = env.int("GRAPHQL_WS_REPLAY_MAX_AGE_SECONDS", 86400, minimum=60)
GRAPHQL_WS_RESUME_WINDOW_SECONDS = env.int("GRAPHQL_WS_RESUME_WINDOW_SECONDS", 5, minimum=1)

SMS_BACKEND = env.str("SMS_BACKEND", "notifications.sms.LogSMSBackend")
SMS_HTTP_URL = env.str("SMS_HTTP_URL")
SMS_HTTP_TOKEN = env.str("SMS_HTTP_TOKEN")
if PRODUCTION and SMS_BACKEND == "notifications.sms.LogSMSBackend" and not env.bool("SMS_LOG_IN_PRODUCTION", False):
    env.problems.append(
        "SMS_BACKEND must be a real gateway in production: the log backend writes one-time codes to the log "
        "(set SMS_LOG_IN_PRODUCTION=true only for a closed test stack)"
    )
if SMS_BACKEND == "notifications.sms.HttpSMSBackend" and not SMS_HTTP_URL.startswith(("https://", "http://")):
    env.problems.append("SMS_HTTP_URL must be an http(s) URL when SMS_BACKEND is the HTTP gateway")

# A resident may file this many complaints an hour (spam and flooding guard; idempotent retries do not count).
COMPLAINTS_PER_HOUR = env.int("COMPLAINTS_PER_HOUR", 20, minimum=1)
OPEN311_SUBMISSIONS_PER_HOUR = env.int("OPEN311_SUBMISSIONS_PER_HOUR", 600, minimum=1)
OPEN311_CONTACT = env.str("OPEN311_CONTACT", "Diskominfo")

# The staff console's maps: a tile server (an XYZ URL such as https://{s}.tile.example/{z}/{x}/{y}.png, allowed by the
# console's Content-Security-Policy) and its attribution. Empty: maps show the cases without a background.
CONSOLE_TILE_URL = env.str("CONSOLE_TILE_URL", "")
CONSOLE_TILE_ATTRIBUTION = env.str("CONSOLE_TILE_ATTRIBUTION", "")
# Where the console's pages open the API's WebSocket for live updates; empty: /graphql on the page's own host.
CONSOLE_WEBSOCKET_URL = env.str("CONSOLE_WEBSOCKET_URL", "")

# An overdue case is escalated to the region's admins after this much more working time.
SLA_ESCALATE_AFTER_WORKING_HOURS = env.int("SLA_ESCALATE_AFTER_WORKING_HOURS", 16, minimum=1)
# A case transferred this many times between agencies goes to the region's triage agency on its next transfer.
CASE_TRANSFER_HOP_LIMIT = env.int("CASE_TRANSFER_HOP_LIMIT", 3, minimum=1)

# --- GraphQL -----------------------------------------------------------------------------------------------------
GRAPHENE = {
    "SCHEMA": "schema.schema",
    "RELAY_CONNECTION_MAX_LIMIT": 100,
    "RELAY_CONNECTION_ENFORCE_FIRST_OR_LAST": False,
    "ATOMIC_MUTATIONS": False,
}
GRAPHQL_INTROSPECTION = env.bool("GRAPHQL_INTROSPECTION", not PRODUCTION)
GRAPHQL_MAX_DEPTH = env.int("GRAPHQL_MAX_DEPTH", 12, minimum=3)
GRAPHQL_MAX_ALIASES = env.int("GRAPHQL_MAX_ALIASES", 30, minimum=1)
GRAPHQL_MAX_COST = env.int("GRAPHQL_MAX_COST", 50_000, minimum=100)
GRAPHQL_MAX_BODY_BYTES = env.int("GRAPHQL_MAX_BODY_BYTES", 256 * 1024, minimum=1024)
# Checked before validation, whose cost grows faster than a document (schema/limits.py).
GRAPHQL_MAX_TOKENS = env.int("GRAPHQL_MAX_TOKENS", 15_000, minimum=100)
# Automatic persisted queries (schema/persisted.py): open, known (only the manifest's hashes) or off.
GRAPHQL_APQ = env.str("GRAPHQL_APQ", "open").strip().lower()
if GRAPHQL_APQ not in {"open", "known", "off"}:
    env.problems.append("GRAPHQL_APQ must be open, known or off")
GRAPHQL_APQ_MANIFEST = env.str("GRAPHQL_APQ_MANIFEST")
if GRAPHQL_APQ == "known" and not (GRAPHQL_APQ_MANIFEST and Path(GRAPHQL_APQ_MANIFEST).is_file()):
    env.problems.append("GRAPHQL_APQ=known needs GRAPHQL_APQ_MANIFEST, the path of the app's persisted-query manifest")
GRAPHQL_APQ_SECONDS = env.int("GRAPHQL_APQ_SECONDS", 7 * 86400, minimum=60)
GRAPHQL_MAX_FIELDS = env.int("GRAPHQL_MAX_FIELDS", 1_000, minimum=10)
GRAPHQL_MAX_FIELD_REPEATS = env.int("GRAPHQL_MAX_FIELD_REPEATS", 15, minimum=2)

# --- Regions and geography ---------------------------------------------------------------------------------------
# Boundaries and locations must lie inside this box (min lon, min lat, max lon, max lat): Indonesia with a margin.
# It catches swapped latitude/longitude, the commonest mistake in hand-made GeoJSON.
GEO_BOUNDS = (94.0, -12.0, 142.0, 7.0)
# Categories of the `holidays` package that count as days off: public holidays and cuti bersama.
HOLIDAY_CATEGORIES = ("public", "government")

# --- Internationalisation ----------------------------------------------------------------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

# --- Security ----------------------------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
# Preloading is a commitment for the whole domain (every subdomain HTTPS, forever): the operator opts in with
# SECURE_HSTS_PRELOAD=true, so Django's reminder that it is off is not a deployment problem.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env.bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# Form posts (the admin's GeoJSON boundaries can be large); /graphql has its own, smaller limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024, minimum=1024)

# --- Logging -----------------------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

if env.problems:
    raise ConfigError(env.problems)
SERVICE_URLS = {"database": describe_url(DATABASE_URL), "redis": describe_url(REDIS_URL) if REDIS_URL else ""}
