"""SmartGov settings: everything comes from the environment (see README, "Configuration").

Typed helpers in the style of healthchecks: ``envbool``, ``envint``, and secrets from ``X_FILE``.
"""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from smartgov.core.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent  # src/smartgov
PROJECT_DIR = BASE_DIR.parent.parent


def env(name: str, default: str = "") -> str:
    """A setting from the environment; ``NAME_FILE`` (a path) wins, for secrets mounted as files."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def envbool(name: str, default: str) -> bool:
    return env(name, default).strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: str) -> int:
    return int(env(name, default))


VAR_DIR = Path(env("SMARTGOV_VAR_DIR", str(PROJECT_DIR / "var")))
DEBUG = envbool("SMARTGOV_DEBUG", "false")

# A development secret is generated under var/ by `smartgov setup`; production sets SECRET_KEY(_FILE).
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    _dev_secret = VAR_DIR / "keys" / "django-secret"
    SECRET_KEY = _dev_secret.read_text().strip() if _dev_secret.exists() else ""
if not SECRET_KEY:
    # Only commands that don't sign anything (setup, tests) get this far; the check below refuses to serve.
    SECRET_KEY = "unset-" + os.urandom(16).hex()
    SECRET_KEY_IS_EPHEMERAL = True
else:
    SECRET_KEY_IS_EPHEMERAL = False

ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "ninja",  # Swagger UI served from our static files (no CDN, no inline script: CSP)
    "smartgov.core",
    "smartgov.accounts",
    "smartgov.audit",
    "smartgov.identity",
    "smartgov.eid",
    "smartgov.licences",
    "smartgov.biometrics",
    "smartgov.workflow",
    "smartgov.exchange",
    "smartgov.onestop",
    "smartgov.trace",
    "smartgov.iot",
    "smartgov.grain",
    "smartgov.park",
    "smartgov.hall",
    "smartgov.seccloud",
    "smartgov.smart",
    "smartgov.overview",
    "smartgov.portal",
]

MIDDLEWARE = [
    "smartgov.core.middleware.RequestIdMiddleware",
    "smartgov.core.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "smartgov.core.middleware.RequestSizeLimitMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "smartgov.core.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "smartgov.core.dbrouter.ReplicaReadsMiddleware",  # outside sessions: a saved session is the request's write
    "django.contrib.sessions.middleware.SessionMiddleware",
    "smartgov.core.middleware.IdleSessionMiddleware",
    "smartgov.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "smartgov.accounts.middleware.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "smartgov.audit.middleware.RequestContextMiddleware",
    "smartgov.core.middleware.DomainErrorPageMiddleware",
]

ROOT_URLCONF = "smartgov.config.urls"
WSGI_APPLICATION = "smartgov.config.wsgi.application"
ASGI_APPLICATION = "smartgov.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "smartgov.portal.context.platform",
            ],
        },
    },
]

# Database: SQLite (WAL) under var/ by default; DATABASE_URL=postgresql://… for production.
DATABASE_URL = env("DATABASE_URL")
# Behind PgBouncer in transaction mode; session tools (pg_dump/pg_restore of `smartgov backup`/`restore`)
# then need the primary itself: DATABASE_DIRECT_URL.
DB_TRANSACTION_POOLER = envbool("SMARTGOV_DB_TRANSACTION_POOLER", "false")
DATABASE_DIRECT_URL = env("DATABASE_DIRECT_URL")
if DATABASE_URL and not DATABASE_URL.startswith("sqlite"):
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", "60"))}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DB_TRANSACTION_POOLER:
        # PgBouncer in transaction mode: a server connection is someone else's after each transaction, so
        # no prepared statements (psycopg would prepare after 5 runs) and no server-side cursors
        DATABASES["default"]["OPTIONS"] = {**DATABASES["default"].get("OPTIONS", {}), "prepare_threshold": None}
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            # sqlite:////absolute/path.sqlite3 picks another SQLite file (benchmarks' scratch database)
            "NAME": DATABASE_URL.removeprefix("sqlite:///") if DATABASE_URL else VAR_DIR / "smartgov.sqlite3",
            # keep connections: opening one (and running the PRAGMAs) costs more than a small request
            "CONN_MAX_AGE": envint("DB_CONN_MAX_AGE", "60"),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so
                # two writers queue instead of failing with "database is locked" on lock upgrade.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                    " PRAGMA busy_timeout=10000;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
# Read replicas (PostgreSQL streaming replicas): safe requests read from them, see core/dbrouter.py.
DATABASE_REPLICA_URLS = [u.strip() for u in env("DATABASE_REPLICA_URLS").split(",") if u.strip()]
REPLICA_MAX_LAG_SECONDS = float(env("SMARTGOV_REPLICA_MAX_LAG_SECONDS", "5"))
REPLICA_CHECK_SECONDS = float(env("SMARTGOV_REPLICA_CHECK_SECONDS", "2"))
# a browser that wrote reads the primary this long; never shorter than the lag a replica may have
READ_YOUR_WRITES_SECONDS = max(envint("SMARTGOV_READ_YOUR_WRITES_SECONDS", "10"), int(REPLICA_MAX_LAG_SECONDS) + 1)
for _i, _url in enumerate(DATABASE_REPLICA_URLS):
    DATABASES[f"replica{_i}"] = {**dj_database_url.parse(_url, conn_max_age=envint("DB_CONN_MAX_AGE", "60")),
                                 "CONN_HEALTH_CHECKS": True, "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["smartgov.core.dbrouter.ReplicaRouter"]
# Prometheus metrics at /metrics: to these networks, or with ``Authorization: Bearer <token>``
METRICS_TOKEN = env("SMARTGOV_METRICS_TOKEN")
METRICS_NETWORKS = [ipaddress.ip_network(n.strip())
                    for n in env("SMARTGOV_METRICS_NETWORKS", "127.0.0.1/32,::1/128").split(",") if n.strip()]
METRICS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR")  # set by `smartgov serve` for its gunicorn workers
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["smartgov.accounts.backends.LockoutModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "portal:signin"  # sends citizens to the EID sign-in, staff to the two-factor one
LOGIN_REDIRECT_URL = "portal:workbench"
LOGOUT_REDIRECT_URL = "portal:home"

# Staff login (MLPS 2.0 level 3: two factors, lockout, idle timeout).
LOGIN_MAX_FAILURES = envint("SMARTGOV_LOGIN_MAX_FAILURES", "5")
LOGIN_LOCKOUT_MINUTES = envint("SMARTGOV_LOGIN_LOCKOUT_MINUTES", "15")
SESSION_COOKIE_AGE = envint("SMARTGOV_SESSION_IDLE_SECONDS", "1800")
# The cache holds rate-limit counters (办件查询's wrong tries): in the database, so every app server and
# worker of a cluster counts the same tries (a per-process memory cache would give each its own budget).
# `smartgov setup` creates the table. SMARTGOV_CACHE=memory for a single process that needs no sharing.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "smartgov_cache"}
          if env("SMARTGOV_CACHE", "database") == "database" else
          {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_SAVE_EVERY_REQUEST = False  # idle expiry: core IdleSessionMiddleware refreshes it (≤ once a minute)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SMARTGOV_SECURE_COOKIES", "false")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response: scripts only from our own origin or inline with the
# request's nonce (no 'unsafe-inline' scripts, no eval); data for scripts goes through json_script.
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],  # style="" attributes; styles cannot run script
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Permissions-Policy: the platform's pages need no powerful browser feature (capture devices send
# their data to the API, not through the browser).
PERMISSIONS_POLICY = env(
    "SMARTGOV_PERMISSIONS_POLICY",
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), hid=(),"
    " midi=(), magnetometer=(), gyroscope=(), accelerometer=(), display-capture=()",
)
TOTP_ISSUER = env("SMARTGOV_TOTP_ISSUER", "SmartGov")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
try:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it even before collectstatic
except OSError:
    pass
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))

# Background jobs: Django's tasks framework with a database-backed queue (`smartgov worker`).
TASKS = {"default": {"BACKEND": env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

# Audit: how often (in entries) a signed Merkle checkpoint is cut, and the platform signing key.
# A checkpoint is signed by the append that reaches either bound (no worker needed); `audit verify` fails
# when the unsigned tail is longer. AUDIT_PUBLISH_FILE: also append each checkpoint there (outside the DB).
AUDIT_CHECKPOINT_EVERY = envint("SMARTGOV_AUDIT_CHECKPOINT_EVERY", "1000")
AUDIT_CHECKPOINT_SECONDS = envint("SMARTGOV_AUDIT_CHECKPOINT_SECONDS", "60")
AUDIT_PUBLISH_FILE = env("SMARTGOV_AUDIT_PUBLISH_FILE")
AUDIT_TRUSTED_KEYS_DIR = env("SMARTGOV_AUDIT_TRUSTED_KEYS_DIR")
# The worker verifies the whole trail this often and keeps the result (the overview's 审计链状态 reads it rather
# than re-hashing on every look); 0 turns the periodic verification off.
AUDIT_VERIFY_SECONDS = envint("SMARTGOV_AUDIT_VERIFY_SECONDS", "3600")
SIGNING_KEY_FILE = Path(env("SMARTGOV_SIGNING_KEY_FILE", str(VAR_DIR / "keys" / "platform-sm2.pem")))
# Field encryption: SMARTGOV_MASTER_KEYS(_FILE) is read by smartgov.core.crypto.keys; `smartgov setup`
# writes a development key file here when nothing is configured.
EID_ISSUER = env("SMARTGOV_EID_ISSUER", "SFC-GAJ")  # department code of the EID authority
OTP_SENDER = env("SMARTGOV_OTP_SENDER", "")  # dotted path of fn(person, subject, body); default: outbox
# Demo mode (`make run`): one-time codes also go to the server log and are shown, marked, on the
# sign-in page, since a demo has no SMS gateway. Never set it in production.
DEMO_MODE = envbool("SMARTGOV_DEMO_MODE", "false")
# Folder of YYYY.json holiday schedules overriding the shipped ones (core.workdays).
HOLIDAYS_DIR = env("SMARTGOV_HOLIDAYS_DIR")
# Biometrics: the lowest template quality accepted at enrolment, and where the 1:N indexes are saved.
BIOMETRIC_MIN_QUALITY = envint("SMARTGOV_BIOMETRIC_MIN_QUALITY", "60")
BIOMETRIC_INDEX_DIR = env("SMARTGOV_BIOMETRIC_INDEX_DIR")  # empty: VAR_DIR/biometrics
# Benchmarks that start an app server (onestop, exchange): its gunicorn workers and threads.
BENCH_WORKERS = envint("SMARTGOV_BENCH_WORKERS", str((os.cpu_count() or 2) * 2))
BENCH_THREADS = envint("SMARTGOV_BENCH_THREADS", "2")
# The password `smartgov demo` gives every demo account (README) — a demo database only.
DEMO_PASSWORD = env("SMARTGOV_DEMO_PASSWORD", "demo-SmartGov-2026")
# One-stop services: uploads, rectification deadline for negative evaluations, notification senders.
ONESTOP_MAX_UPLOAD_BYTES = envint("SMARTGOV_ONESTOP_MAX_UPLOAD_MB", "10") * 1_048_576
ONESTOP_UPLOAD_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp")
ONESTOP_RECTIFY_DAYS = envint("SMARTGOV_RECTIFY_DAYS", "5")  # working days to rectify a 差评
SMARTGOV_NOTIFY_SENDERS = [p for p in env("SMARTGOV_NOTIFY_SENDERS", "").split(",") if p.strip()]
# Security cloud: log retention (≥ 180 days, MLPS 2.0 level 3), syslog listener, the platform's host name.
SECCLOUD_RETENTION_DAYS = envint("SMARTGOV_SECCLOUD_RETENTION_DAYS", "180")
SECCLOUD_SYSLOG_BIND = env("SMARTGOV_SECCLOUD_SYSLOG_BIND", "127.0.0.1:5514")
SECCLOUD_SYSLOG_TLS_CERT = env("SMARTGOV_SECCLOUD_SYSLOG_TLS_CERT")  # PEM cert+key: TCP listener speaks TLS
SECCLOUD_PLATFORM_HOST = env("SMARTGOV_SECCLOUD_PLATFORM_HOST", "smartgov")
# Data sharing exchange: provider timeout, batch timestamps (sealed every N seconds; calls are refused
# when a signed call has waited longer than the grace period for its batch), webhook delivery.
EXCHANGE_PROVIDER_TIMEOUT_MS = envint("SMARTGOV_EXCHANGE_PROVIDER_TIMEOUT_MS", "3000")
EXCHANGE_SEAL_SECONDS = envint("SMARTGOV_EXCHANGE_SEAL_SECONDS", "5")
EXCHANGE_TIMESTAMP_GRACE_SECONDS = envint("SMARTGOV_EXCHANGE_TIMESTAMP_GRACE_SECONDS", "120")
EXCHANGE_WEBHOOK_TIMEOUT_MS = envint("SMARTGOV_EXCHANGE_WEBHOOK_TIMEOUT_MS", "5000")
EXCHANGE_WEBHOOK_MAX_ATTEMPTS = envint("SMARTGOV_EXCHANGE_WEBHOOK_MAX_ATTEMPTS", "8")
EXCHANGE_DECIDE_WORKDAYS = envint("SMARTGOV_EXCHANGE_DECIDE_WORKDAYS", "10")  # 有条件共享: provider answers within
EXCHANGE_DELIVERY_LEASE_SECONDS = envint("SMARTGOV_EXCHANGE_DELIVERY_LEASE_SECONDS", "30")
# Exit-entry hall: live pages (SSE) are served by the ASGI server (`smartgov hall live`); HALL_LIVE_URL is
# its origin when it is not behind the same proxy path (/hall/live/), HALL_LIVE_POLL_MS how often each
# live server looks at the hall event log for changes written by other processes.
HALL_LIVE_URL = env("SMARTGOV_HALL_LIVE_URL", "")
HALL_LIVE_POLL_MS = envint("SMARTGOV_HALL_LIVE_POLL_MS", "100")
# 用数赋智 (smart): how often the worker screens for new 免申即享 qualifiers; the OCR engine's threads
# (onnxruntime intra-op; 0 = its default) and the CJK font the OCR benchmark renders documents with.
SMART_SCREEN_SECONDS = envint("SMARTGOV_SMART_SCREEN_SECONDS", "3600")
SMART_OCR_THREADS = envint("SMARTGOV_SMART_OCR_THREADS", "2")
SMART_OCR_FONT = env("SMARTGOV_SMART_OCR_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
# City overview (领导驾驶舱): which 运行报告 the worker generates (week, month; empty = none) and how often it looks
# for a period that has ended; the GeoJSON of the installation's regions for the map (a path; empty = the demo
# regions shipped in overview/data/demo-regions.geojson). Features carry properties.code = the region code.
OVERVIEW_REPORT_PERIODS = tuple(p.strip() for p in env("SMARTGOV_OVERVIEW_REPORT_PERIODS", "week,month").split(",")
                                if p.strip())
OVERVIEW_REPORT_CHECK_SECONDS = envint("SMARTGOV_OVERVIEW_REPORT_CHECK_SECONDS", "3600")
OVERVIEW_REGIONS_GEOJSON = env("SMARTGOV_OVERVIEW_REGIONS_GEOJSON", "")
# the leaders' live screens: how often a department's picture is recomputed (seconds) and how long one stream
# lasts before the browser reconnects (so a changed permission takes effect)
OVERVIEW_LIVE_POLL_S = float(env("SMARTGOV_OVERVIEW_LIVE_POLL_S", "5"))
OVERVIEW_LIVE_MAX_S = float(env("SMARTGOV_OVERVIEW_LIVE_MAX_S", "300"))
# a department's figures are kept (per process) until the next audited write anywhere, and at most this many
# seconds (what changes without one — a deadline passing, a sensor batch between entries); 0 = no caching
OVERVIEW_CACHE_SECONDS = float(env("SMARTGOV_OVERVIEW_CACHE_SECONDS", "10"))
DEV_MASTER_KEYS_FILE = VAR_DIR / "keys" / "master-keys"
if not env("SMARTGOV_MASTER_KEYS") and DEV_MASTER_KEYS_FILE.exists():
    os.environ.setdefault("SMARTGOV_MASTER_KEYS_FILE", str(DEV_MASTER_KEYS_FILE))
# key files `smartgov backup` puts in the archive (keys given inline in the environment are not in it)
MASTER_KEYS_FILE = env("SMARTGOV_MASTER_KEYS_FILE")
BLIND_INDEX_KEY_FILE = env("SMARTGOV_BLIND_INDEX_KEY_FILE")
MASTER_KEYS_INLINE = bool(env("SMARTGOV_MASTER_KEYS") or env("SMARTGOV_BLIND_INDEX_KEY"))

# Request bodies: none longer than this (413 before reading; every upload and capture path). Django's
# DATA_UPLOAD_MAX_MEMORY_SIZE still bounds bodies read whole (JSON), the per-file upload limits apply too.
MAX_REQUEST_BYTES = envint("SMARTGOV_MAX_REQUEST_MB", "64") * 1_048_576
TRACE_MAX_EVENT_BYTES = envint("SMARTGOV_TRACE_MAX_EVENT_KB", "4096") * 1024  # one EPCIS event or string
# EPCIS webhook subscriptions may only call these hosts ("host", "host:port", "*.domain"; comma-separated).
# Empty: no webhook subscription can be made (the server calls no host a subscriber names).
TRACE_WEBHOOK_ALLOWED_HOSTS = [h.strip().lower() for h in env("SMARTGOV_TRACE_WEBHOOK_HOSTS", "").split(",")
                               if h.strip()]
# EPCIS WebSocket subscriptions (served by the ASGI process): how often it looks for captures and schedules
# signalled to its sockets (one query per process, however many sockets)
TRACE_WS_POLL_MS = envint("SMARTGOV_TRACE_WS_POLL_MS", "200")

# MQTT broker for grain readings: mqtt://[user@]host:1883 or mqtts://… (TLS); password apart (or in the URL).
MQTT_URL = env("SMARTGOV_MQTT_URL", "mqtt://127.0.0.1:1883")
MQTT_PASSWORD = env("SMARTGOV_MQTT_PASSWORD")
MQTT_CA_FILE = env("SMARTGOV_MQTT_CA_FILE")
# IoT telemetry (docs/iot.md): a message's time must lie within this window around the server clock.
IOT_MAX_FUTURE_SECONDS = envint("SMARTGOV_IOT_MAX_FUTURE_SECONDS", "600")
IOT_MAX_AGE_DAYS = envint("SMARTGOV_IOT_MAX_AGE_DAYS", "30")
# Telemetry older than this is deleted hourly (whole months at once on PostgreSQL); at least 90 days.
IOT_TELEMETRY_RETENTION_DAYS = envint("SMARTGOV_IOT_TELEMETRY_RETENTION_DAYS", "400")
# The demo users' password (smartgov demo; documented, demo data only).
DEMO_PASSWORD = env("SMARTGOV_DEMO_PASSWORD", "demo-SmartGov-2026")

# Grain scans (粮情): a scan's time must lie within this window around the server clock.
GRAIN_SCAN_MAX_FUTURE_SECONDS = envint("SMARTGOV_GRAIN_SCAN_MAX_FUTURE_SECONDS", "600")
GRAIN_SCAN_MAX_AGE_DAYS = envint("SMARTGOV_GRAIN_SCAN_MAX_AGE_DAYS", "400")

# Logs: one JSON object per line with the request id (core/logs.py); "text" for a developer's console.
LOG_FORMAT = env("SMARTGOV_LOG_FORMAT", "json")
LOGGING = logging_config(fmt=LOG_FORMAT, level=env("LOG_LEVEL", "INFO"))
