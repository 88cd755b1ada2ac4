"""Mestring settings.

Everything comes from environment variables. With none set, the platform runs on its embedded
defaults: SQLite under ``var/``, the in-memory channel layer, pushes written to the log and the task
worker inside the web process. ``deploy/mestring.env.example`` lists the production environment.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


EMBEDDED_SECRET_KEY = "embedded-mestring-secret-key-not-for-production-use-0123456789abcdef"  # noqa: S105 — refused with DEBUG off
EMBEDDED_CPR_ENCRYPTION_KEY = "4Z4vS2mQGx2mX4D0p8lK3o9nq1Xw7r5tYb6cJ0eHf2U="
EMBEDDED_CPR_HASH_KEY = "embedded-cpr-hash-key-not-for-production"

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", EMBEDDED_SECRET_KEY)
CPR_ENCRYPTION_KEYS = env_list("CPR_ENCRYPTION_KEYS", [EMBEDDED_CPR_ENCRYPTION_KEY])
CPR_HASH_KEY = os.environ.get("CPR_HASH_KEY", EMBEDDED_CPR_HASH_KEY)

if not DEBUG:
    # Refuse to serve real data with the keys every checkout of the code knows.
    if SECRET_KEY == EMBEDDED_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be set to a long random value when DEBUG is off.")
    if EMBEDDED_CPR_ENCRYPTION_KEY in CPR_ENCRYPTION_KEYS or CPR_HASH_KEY == EMBEDDED_CPR_HASH_KEY:
        raise ImproperlyConfigured("CPR_ENCRYPTION_KEYS and CPR_HASH_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "backend.apps.MestringAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_tasks_db",
    "import_export",
    "ninja",  # the API docs' Swagger UI from the package's own static files, not a CDN
    "backend",
    "selvbetjening",
    "velfaerdsteknologi",
    "notifications",
    "effekt",
    "django_htmx",
    "staffweb",
    "borgerapp",
]

MIDDLEWARE = [
    "backend.middleware.RequestIdMiddleware",
    "backend.middleware.DatabaseUnavailableMiddleware",
    "backend.middleware.BodySizeLimitMiddleware",
    "backend.middleware.ApiProblemMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "backend.web_session_cookies.WebSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "backend.ratelimit.WriteQuotaMiddleware",
    "backend.idempotency.IdempotencyKeyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "backend.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "backend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "staffweb.context.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'mestring.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        # A health check is a `SELECT 1` before each use of a kept connection; the websocket service,
        # whose calls all share one thread, can turn it off.
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Each thread keeps its connection (DB_CONN_MAX_AGE, as on PostgreSQL): a connection opened per request,
    # with its pragmas, put the tail of a logged read several times higher (bench/README.md, "The embedded
    # mode's writers"). A read runs under autocommit, outside any write transaction; its access-log row is
    # one autocommit INSERT, waiting in SQLite's busy handler for the one writer, before the answer leaves.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 3)
    # psycopg's connection pool, one per process (DB_POOL_MAX_SIZE > 0): the process's threads share
    # DB_POOL_MAX_SIZE connections instead of holding one each, and the websocket process's calls stop
    # opening one per call. Pooled connections are not also kept by Django (CONN_MAX_AGE 0).
    DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 0)
    if DB_POOL_MAX_SIZE > 0:
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": min(env_int("DB_POOL_MIN_SIZE", 1), DB_POOL_MAX_SIZE),
            "max_size": DB_POOL_MAX_SIZE,
            # Seconds a request waits for a free connection before it fails (a 503, as with PostgreSQL down).
            "timeout": env_int("DB_POOL_TIMEOUT", 10),
            # Idle connections above min_size close after this many seconds.
            "max_idle": env_int("DB_POOL_MAX_IDLE", 300),
        }

# A PostgreSQL streaming replica for heavy reads (backend/replica.py): the indicators and their exports and
# the staff triage read there while it streams and lags at most DATABASE_REPLICA_MAX_LAG_SECONDS.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
DATABASE_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("DATABASE_REPLICA_MAX_LAG_SECONDS", "5"))
DATABASE_REPLICA_CHECK_SECONDS = float(os.environ.get("DATABASE_REPLICA_CHECK_SECONDS", "5"))
if DATABASE_REPLICA_URL:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL to name PostgreSQL.")
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=DATABASES["default"]["CONN_HEALTH_CHECKS"],
    )
    DATABASES["replica"]["OPTIONS"] = {**DATABASES["default"]["OPTIONS"]}
    # Tests run on one database: the replica alias reads the test database of the primary.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["backend.replica.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # The pub/sub layer held thousands of sockets where RedisChannelLayer's pool failed handshakes.
    # Redis only carries live fan-out: a hung or unreachable Redis must cost a request at most about a
    # second (timeouts, one retry without backoff), never redis-py's default retries with backoff.
    from redis.asyncio.retry import Retry as RedisRetry
    from redis.backoff import NoBackoff

    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_connect_timeout": float(os.environ.get("CHANNEL_LAYER_CONNECT_TIMEOUT_SECONDS", "0.5")),
                        "socket_timeout": float(os.environ.get("CHANNEL_LAYER_TIMEOUT_SECONDS", "0.5")),
                        "retry": RedisRetry(NoBackoff(), 1),
                    }
                ],
                "prefix": "mestring",
            },
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "mestring",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shared"},
    }

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
# Jobs that run on a clock: (management command, seconds between runs). Production runs them from
# systemd timers (deploy/systemd); the embedded `serve` runs them itself.
PERIODIC_COMMANDS = [
    ("detect_missing_heartbeats", 60),
    ("training_slots", 300),
    ("indicators_refresh", 300),
    ("notify_due", 900),
    ("deliver_due_push", 60),
    ("requeue_abandoned_tasks", 60),
    ("dispatch_reminders", 30),
    ("purge_stream_events", 24 * 3600),
    ("purge_reminders", 24 * 3600),
    ("purge_expired", 24 * 3600),
    ("partitions", 24 * 3600),
]
# A background task running longer than this is taken to have lost its worker (killed, its host gone) and
# is queued again for another (`requeue_abandoned_tasks`); every task is safe to run twice.
TASK_RUNNING_LEASE_SECONDS = env_int("TASK_RUNNING_LEASE_SECONDS", 600)
if TASK_RUNNING_LEASE_SECONDS < 1:
    raise ImproperlyConfigured("TASK_RUNNING_LEASE_SECONDS must be at least 1.")
# The embedded mode runs the worker inside the web process so that the in-memory channel layer
# reaches open websockets.
EMBEDDED_WORKER = env_bool("EMBEDDED_WORKER", not REDIS_URL)

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "da"
LANGUAGES = [("da", "Dansk"), ("en", "English")]
TIME_ZONE = "UTC"
DEFAULT_CITIZEN_TIME_ZONE = "Europe/Copenhagen"
USE_I18N = True
# The staff pages' English (Danish msgids); the .mo is committed beside the .po.
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
# whitenoise serves the static files from the web process (compressed; nginx serves them in production,
# see deploy/). Not the manifest storage: the vendored DKFDS stylesheet names fonts and pictures that are
# deliberately left out to keep the download small.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if STATIC_ROOT.is_relative_to(VAR_DIR):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# Request bodies: the API answers 413 above this size; uploads get their own limit.
MAX_BODY_BYTES = env_int("MAX_BODY_BYTES", 1_000_000)
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 10_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES

# Identity and tokens.
ACCESS_TOKEN_TTL_SECONDS = env_int("ACCESS_TOKEN_TTL_SECONDS", 15 * 60)
REFRESH_TOKEN_TTL_SECONDS = env_int("REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600)
APP_SESSION_MAX_AGE_SECONDS = env_int("APP_SESSION_MAX_AGE_SECONDS", 90 * 24 * 3600)
LOGIN_FLOW_TTL_SECONDS = env_int("LOGIN_FLOW_TTL_SECONDS", 10 * 60)
PASSWORD_LOGIN_ENABLED = env_bool("PASSWORD_LOGIN_ENABLED", DEBUG)
# The embedded mode serves on $PORT: its own pages' origins follow it.
EMBEDDED_PORT = os.environ.get("PORT", "8000")
APP_REDIRECT_URIS = env_list(
    "APP_REDIRECT_URIS", ["dk.mestring.app:/oauth/callback", f"http://127.0.0.1:{EMBEDDED_PORT}/auth/done"]
)
WEBSOCKET_ALLOWED_ORIGINS = env_list(
    "WEBSOCKET_ALLOWED_ORIGINS", [f"http://127.0.0.1:{EMBEDDED_PORT}", f"http://localhost:{EMBEDDED_PORT}"]
)

OIDC_PROVIDERS = {
    "citizen": {
        "issuer": os.environ.get("OIDC_CITIZEN_ISSUER", ""),
        "client_id": os.environ.get("OIDC_CITIZEN_CLIENT_ID", ""),
        "client_secret": os.environ.get("OIDC_CITIZEN_CLIENT_SECRET", ""),
        "scope": os.environ.get("OIDC_CITIZEN_SCOPE", "openid mitid"),
        # NSIS assurance level Substantial or higher (MitID / NemLog-in LoA values).
        "accepted_acr": env_list(
            "OIDC_CITIZEN_REQUIRED_ACR",
            ["https://data.gov.dk/concept/core/nsis/loa/Substantial", "https://data.gov.dk/concept/core/nsis/loa/High"],
        ),
        "cpr_claim": os.environ.get("OIDC_CITIZEN_CPR_CLAIM", "dk:gov:saml:attribute:CprNumberIdentifier"),
        "name_claim": os.environ.get("OIDC_CITIZEN_NAME_CLAIM", "name"),
    },
    "staff": {
        "issuer": os.environ.get("OIDC_STAFF_ISSUER", ""),
        "client_id": os.environ.get("OIDC_STAFF_CLIENT_ID", ""),
        "client_secret": os.environ.get("OIDC_STAFF_CLIENT_SECRET", ""),
        "scope": os.environ.get("OIDC_STAFF_SCOPE", "openid profile email"),
        "accepted_acr": env_list("OIDC_STAFF_REQUIRED_ACR", []),
        "username_claim": os.environ.get("OIDC_STAFF_USERNAME_CLAIM", "preferred_username"),
        "name_claim": os.environ.get("OIDC_STAFF_NAME_CLAIM", "name"),
    },
}
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", f"http://127.0.0.1:{EMBEDDED_PORT}")
OIDC_HTTP_TIMEOUT_SECONDS = env_int("OIDC_HTTP_TIMEOUT_SECONDS", 5)

# Rate limits: (attempts, window seconds) per client address and per account; lockout after failures.
RATE_LIMIT_PER_ADDRESS = (env_int("RATE_LIMIT_PER_ADDRESS", 30), 60)
# Addresses (or networks) of the reverse proxies in front of the web processes: only from these is
# X-Forwarded-For believed when the platform judges a client's address (rate limits, the sessions list).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
# Quotas for valid callers, per minute: writes to the API per login, telemetry posts per device key.
API_WRITES_PER_MINUTE = env_int("API_WRITES_PER_MINUTE", 300)
TELEMETRY_POSTS_PER_MINUTE = env_int("TELEMETRY_POSTS_PER_MINUTE", 120)
RATE_LIMIT_PER_ACCOUNT = (env_int("RATE_LIMIT_PER_ACCOUNT", 10), 60)
LOCKOUT_AFTER_FAILURES = env_int("LOCKOUT_AFTER_FAILURES", 8)
LOCKOUT_SECONDS = env_int("LOCKOUT_SECONDS", 3600)

ACCESS_LOG_RETENTION_DAYS = env_int("ACCESS_LOG_RETENTION_DAYS", 5 * 365)
if ACCESS_LOG_RETENTION_DAYS < 365:
    raise ImproperlyConfigured("ACCESS_LOG_RETENTION_DAYS must be at least 365; the database keeps a year regardless.")
# Telemetry readings older than this are removed by the daily purge (on PostgreSQL whole months of them at
# once); 0 keeps them all.
TELEMETRY_RETENTION_DAYS = env_int("TELEMETRY_RETENTION_DAYS", 0)
IDEMPOTENCY_RETENTION_HOURS = env_int("IDEMPOTENCY_RETENTION_HOURS", 48)
FCM_CREDENTIALS_FILE = os.environ.get("FCM_CREDENTIALS_FILE", "")
# "log" writes each push to the log instead of sending it (the embedded default); "fcm" sends.
PUSH_MODE = os.environ.get("PUSH_MODE", "fcm" if FCM_CREDENTIALS_FILE else "log")
if PUSH_MODE not in ("log", "fcm"):
    raise ImproperlyConfigured("PUSH_MODE must be 'log' or 'fcm'.")
FCM_PROJECT_ID = os.environ.get("FCM_PROJECT_ID", "")
FCM_HTTP_TIMEOUT_SECONDS = env_int("FCM_HTTP_TIMEOUT_SECONDS", 10)
# A push waits this long for an open app to receive its notification over the websocket; then it is
# sent only if none did (0: push at once, whether or not an app showed it).
PUSH_GRACE_SECONDS = env_int("PUSH_GRACE_SECONDS", 5)
# Reminders are made this far ahead of their time, and a dispatcher holds a claimed batch this long.
REMINDER_HORIZON = timedelta(hours=env_int("REMINDER_HORIZON_HOURS", 48))
REMINDER_CLAIM_LEASE_SECONDS = env_int("REMINDER_CLAIM_LEASE_SECONDS", 120)
# This many training slots missed in a row (since the plan's last logged session) raise a training alert
# for the contact person, once per run of misses; 0 turns the rule off.
MISSED_TRAINING_ALERT_AFTER = env_int("MISSED_TRAINING_ALERT_AFTER", 3)
# While websockets are open, each websocket process sends a message round the channel layer this often and
# counts the layer stalled (a hung Redis) when it is not back within the timeout; sockets replay once it is.
STREAM_LAYER_PROBE_SECONDS = float(os.environ.get("STREAM_LAYER_PROBE_SECONDS", "2"))
STREAM_LAYER_PROBE_TIMEOUT_SECONDS = float(os.environ.get("STREAM_LAYER_PROBE_TIMEOUT_SECONDS", "2"))
for _lease_name, _lease in [
    ("REMINDER_CLAIM_LEASE_SECONDS", REMINDER_CLAIM_LEASE_SECONDS),
    ("STREAM_LAYER_PROBE_SECONDS", STREAM_LAYER_PROBE_SECONDS),
    ("STREAM_LAYER_PROBE_TIMEOUT_SECONDS", STREAM_LAYER_PROBE_TIMEOUT_SECONDS),
]:
    if not _lease > 0:
        # A lease of 0 would let a second dispatcher take every batch the moment it is claimed.
        raise ImproperlyConfigured(f"{_lease_name} must be more than 0.")
# Sent, suppressed and cancelled reminders are removed this many days after their time.
REMINDER_RETENTION_DAYS = env_int("REMINDER_RETENTION_DAYS", 30)

# Security headers and cookies.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
# Database sessions, read with one SQL statement (backend/session_store.py).
SESSION_ENGINE = "backend.session_store"
# The citizen app (/app/ and the API it calls) keeps its browser login in a cookie of its own that the
# browser sends only from the platform's own pages (SameSite=Strict); the staff web's stays Lax.
# backend/web_session_cookies.py chooses the cookie by path.
APP_SESSION_COOKIE_NAME = "mestring_app"
APP_SESSION_COOKIE_SAMESITE = "Strict"
# Binds a MitID login to the browser that started it across the provider's cross-site redirect back.
APP_LOGIN_STATE_COOKIE_NAME = "mestring_app_login"
# Browser logins (backend/web_sessions.py), in minutes: idle timeout and absolute lifetime per audience.
STAFF_WEB_IDLE_MINUTES = env_int("STAFF_WEB_IDLE_MINUTES", 30)
STAFF_WEB_LIFETIME_MINUTES = env_int("STAFF_WEB_LIFETIME_MINUTES", 12 * 60)
# The citizen app is installed on the citizen's own phone or tablet: a login lasts as the app's refresh
# token does (30 days), and ends after 7 days without use.
CITIZEN_WEB_IDLE_MINUTES = env_int("CITIZEN_WEB_IDLE_MINUTES", 7 * 24 * 60)
CITIZEN_WEB_LIFETIME_MINUTES = env_int("CITIZEN_WEB_LIFETIME_MINUTES", 30 * 24 * 60)
WEB_SESSION_POLICY = {
    "staff": {"idle": STAFF_WEB_IDLE_MINUTES, "lifetime": STAFF_WEB_LIFETIME_MINUTES},
    "citizen": {"idle": CITIZEN_WEB_IDLE_MINUTES, "lifetime": CITIZEN_WEB_LIFETIME_MINUTES},
}
# Content-Security-Policy (Django's own middleware): every script and style a file from this origin.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "backend.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.request": {"level": "ERROR"},
    },
}
