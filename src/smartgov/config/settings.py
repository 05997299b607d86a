"""SmartGov settings: everything comes from the environment (see README, "Configuration").

Typed helpers in the style of healthchecks: ``envbool``, ``envint``, and secrets from ``X_FILE``.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

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
    "smartgov.core",
    "smartgov.accounts",
    "smartgov.audit",
    "smartgov.identity",
    "smartgov.eid",
    "smartgov.licences",
    "smartgov.biometrics",
    "smartgov.workflow",
    "smartgov.onestop",
    "smartgov.trace",
    "smartgov.grain",
    "smartgov.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
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
                "smartgov.portal.context.platform",
            ],
        },
    },
]

# Database: SQLite (WAL) under var/ by default; DATABASE_URL=postgresql://… for production.
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL and not DATABASE_URL.startswith("sqlite"):
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", "60"))}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["smartgov.accounts.backends.LockoutModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:workbench"
LOGOUT_REDIRECT_URL = "portal:home"

# Staff login (MLPS 2.0 level 3: two factors, lockout, idle timeout).
LOGIN_MAX_FAILURES = envint("SMARTGOV_LOGIN_MAX_FAILURES", "5")
LOGIN_LOCKOUT_MINUTES = envint("SMARTGOV_LOGIN_LOCKOUT_MINUTES", "15")
SESSION_COOKIE_AGE = envint("SMARTGOV_SESSION_IDLE_SECONDS", "1800")
SESSION_SAVE_EVERY_REQUEST = False  # idle expiry: core IdleSessionMiddleware refreshes it (≤ once a minute)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SMARTGOV_SECURE_COOKIES", "false")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
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
AUDIT_CHECKPOINT_EVERY = envint("SMARTGOV_AUDIT_CHECKPOINT_EVERY", "1000")
AUDIT_TRUSTED_KEYS_DIR = env("SMARTGOV_AUDIT_TRUSTED_KEYS_DIR")
SIGNING_KEY_FILE = Path(env("SMARTGOV_SIGNING_KEY_FILE", str(VAR_DIR / "keys" / "platform-sm2.pem")))
# Field encryption: SMARTGOV_MASTER_KEYS(_FILE) is read by smartgov.core.crypto.keys; `smartgov setup`
# writes a development key file here when nothing is configured.
EID_ISSUER = env("SMARTGOV_EID_ISSUER", "SFC-GAJ")  # department code of the EID authority
OTP_SENDER = env("SMARTGOV_OTP_SENDER", "")  # dotted path of fn(person, subject, body); default: outbox
# One-stop services: uploads, rectification deadline for negative evaluations, notification senders.
ONESTOP_MAX_UPLOAD_BYTES = envint("SMARTGOV_ONESTOP_MAX_UPLOAD_MB", "10") * 1_048_576
ONESTOP_UPLOAD_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp")
ONESTOP_RECTIFY_DAYS = envint("SMARTGOV_RECTIFY_DAYS", "5")  # working days to rectify a 差评
SMARTGOV_NOTIFY_SENDERS = [p for p in env("SMARTGOV_NOTIFY_SENDERS", "").split(",") if p.strip()]
DEV_MASTER_KEYS_FILE = VAR_DIR / "keys" / "master-keys"
if not env("SMARTGOV_MASTER_KEYS") and DEV_MASTER_KEYS_FILE.exists():
    os.environ.setdefault("SMARTGOV_MASTER_KEYS_FILE", str(DEV_MASTER_KEYS_FILE))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "faiss": {"level": "WARNING"}},
}
