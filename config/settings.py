"""Draftroom settings: one module, read from the environment.

With no variables at all it runs embedded (SQLite, filesystem storage and a filesystem
Celery broker under ``var/``). Production sets ``DRAFTROOM_PRODUCTION=true`` plus
``DATABASE_URL``, ``CELERY_BROKER_URL``, ``SECRET_KEY``, ``ALLOWED_HOSTS`` and the S3 variables;
see docker-compose.yml.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DRAFTROOM_VAR_DIR", str(BASE_DIR / "var"))).resolve()

PRODUCTION = env_bool("DRAFTROOM_PRODUCTION", False)
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when DRAFTROOM_PRODUCTION is true")


def _embedded_secret_key() -> str:
    # A laptop run keeps one random key across restarts so sessions survive; it never leaves var/.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY is required when DRAFTROOM_PRODUCTION is true")
    SECRET_KEY = _embedded_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DRAFTROOM_PRODUCTION is true")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "apps.core",
    "apps.accounts",
    "apps.campaigns",
    "apps.drafts",
    "apps.reviews",
    "apps.checks",
    "apps.rework",
    "apps.upscales",
    "apps.exports",
    "apps.comments",
    "apps.sharing",
    "apps.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.ContentSecurityPolicyMiddleware",
    "apps.core.middleware.NoStoreMiddleware",
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
                "apps.rework.context_processors.notifications",
                "apps.accounts.context_processors.login_options",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "draftroom.sqlite3"),
            # WAL lets the web server read while the local worker writes a job row.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_FAILURES_PER_USER = env_int("LOGIN_FAILURES_PER_USER", 5)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 30)
LOGIN_THROTTLE_SECONDS = env_int("LOGIN_THROTTLE_SECONDS", 15 * 60)
# Share links (apps.sharing): requests per minute per link and address (a page with its
# thumbnails is ~20), and wrong link passwords per address within LOGIN_THROTTLE_SECONDS.
SHARE_LINK_REQUESTS_PER_MINUTE = env_int("SHARE_LINK_REQUESTS_PER_MINUTE", 240)
SHARE_LINK_PASSWORD_FAILURES = env_int("SHARE_LINK_PASSWORD_FAILURES", 10)

# Login throttling counts must be shared by every web process: Redis in production.
CACHE_URL = env_str("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Sessions read from the shared cache, written through to the database: one query less on
# every page. Only with a shared cache: a per-process cache would keep serving a session that
# another process logged out.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if CACHE_URL
    else "django.contrib.sessions.backends.db"
)
LOGIN_REDIRECT_URL = "campaigns:list"
LOGOUT_REDIRECT_URL = "login"
# An e-mailed invitation to a campaign works once, for this long.
DRAFTROOM_INVITATION_SECONDS = env_int("DRAFTROOM_INVITATION_SECONDS", 7 * 24 * 3600)
# Password reset links (Django's auth views) last this long.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600)

# --- Single sign-on (OpenID Connect, apps.accounts) ------------------------------------------
# mozilla-django-oidc is the relying party: on when OIDC_RP_CLIENT_ID is set. The provider's
# endpoints are named one by one (it does no discovery). Password login stays unless
# DRAFTROOM_PASSWORD_LOGIN=false. People are matched by verified e-mail; an unknown person gets
# an account only if a campaign invited that address (or OIDC_OPEN_SIGNUP=true).
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email profile")
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "single sign-on")
OIDC_OPEN_SIGNUP = env_bool("OIDC_OPEN_SIGNUP", False)
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:sso-callback"
OIDC_USE_PKCE = True
LOGIN_REDIRECT_URL_FAILURE = "/login/?sso=failed"
DRAFTROOM_PASSWORD_LOGIN = env_bool("DRAFTROOM_PASSWORD_LOGIN", True)
if not DRAFTROOM_PASSWORD_LOGIN and not OIDC_RP_CLIENT_ID:
    raise ImproperlyConfigured("DRAFTROOM_PASSWORD_LOGIN=false needs single sign-on (OIDC_*)")
# Both backends are always listed; each refuses when its way of logging in is turned off, so
# tests can switch them with override_settings.
AUTHENTICATION_BACKENDS = [
    "apps.accounts.backends.PasswordBackend",
    "apps.accounts.backends.SingleSignOnBackend",
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and storage ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

STORAGE_BACKEND = env_str("STORAGE_BACKEND", "filesystem")
MEDIA_ROOT = VAR_DIR / "media"
# Media is never served from a public URL: every file goes through a permission-checked view.
MEDIA_URL = "/media-not-served/"
_default_storage: dict[str, Any]
if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME", "draftroom"),
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("AWS_S3_REGION_NAME", "") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY", "") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env_int("SIGNED_URL_SECONDS", 300),
            "file_overwrite": True,
            # SigV4 (X-Amz-* parameters): without it botocore presigns with SigV2, which AWS
            # refuses on buckets created since mid-2020 (MinIO accepts both).
            "signature_version": "s3v4",
            # A stored file opened for reading is downloaded into a spooled temporary file; at 0
            # (django-storages' default) it never spills, so reading one byte of a 50 MB pack
            # held all of it in the web or worker process. Above this it goes to disk.
            "max_memory_size": env_int("AWS_S3_MAX_MEMORY_SIZE", 8 * 1024 * 1024),
        },
    }
elif STORAGE_BACKEND == "filesystem":
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": MEDIA_URL},
    }
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND={STORAGE_BACKEND!r}: use 'filesystem' or 's3'")
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Intake limits --------------------------------------------------------------------------
DRAFTROOM_MAX_UPLOAD_BYTES = env_int("DRAFTROOM_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
DRAFTROOM_MAX_PIXELS = env_int("DRAFTROOM_MAX_PIXELS", 80_000_000)
DRAFTROOM_MAX_SIDE = env_int("DRAFTROOM_MAX_SIDE", 20_000)
DATA_UPLOAD_MAX_NUMBER_FILES = 200
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
SIGNED_URL_SECONDS = env_int("SIGNED_URL_SECONDS", 300)

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # gunicorn sits behind a TLS-terminating proxy that sets this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "draftroom@localhost")
# Links in e-mails are made absolute with this (e.g. https://draftroom.example.com).
DRAFTROOM_BASE_URL = env_str("DRAFTROOM_BASE_URL", "" if PRODUCTION else "http://127.0.0.1:8000")

# --- Celery ---------------------------------------------------------------------------------
# One block for everything that makes jobs survive failures:
# * JSON only: task arguments are primitive ids, never pickles.
# * acks_late + reject_on_worker_lost: a message is acknowledged only after the task finished,
#   so a SIGKILLed worker's job is redelivered. This is safe because every task is idempotent
#   (outputs have deterministic keys and job rows move by compare-and-swap).
# * prefetch 1: a long job never sits reserved behind another on a busy worker.
# * visibility_timeout above the longest job: otherwise Redis redelivers a job that is still
#   running on a healthy worker.
# * time limits: a stuck decode cannot hold a worker for ever; the sweeper re-queues it.
# * The UI reads job rows, never the result backend, so results are not stored.
# * The gpu worker runs `--pool threads --concurrency 2` in one process per GPU: the model is
#   loaded once and two jobs overlap, one on the GPU, the other reading, decoding, encoding or
#   storing; the engine lets one network pass at a time have the device. Prefetch 1 still
#   holds (two messages for two threads). Celery enforces no time limits in the threads pool
#   (a thread cannot be killed): a job that stops reporting loses its lease and the sweeper
#   re-queues it, a job that waits for the GPU longer than CELERY_TASK_TIME_LIMIT fails with a
#   clear message, and a thread that really hangs keeps its slot until the worker restarts.
# The filesystem transport ignores the host, but kombu warns "No hostname was supplied" without one.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost/")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 15 * 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 20 * 60)
CELERY_TIMEZONE = "UTC"
# Renewed by every progress report; a worker silent for this long is taken for lost.
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 5 * 60)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3)
# A job whose database connection died part-way is handed back and retried after this delay.
JOB_DATABASE_RETRY_SECONDS = env_int("JOB_DATABASE_RETRY_SECONDS", 5)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange tables; without this kombu writes them to ./control in the working folder.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # Poll often: on a laptop a preview should appear a moment after upload.
        "polling_interval": 0.2,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_TASK_TIME_LIMIT + 10 * 60,
        "health_check_interval": 10,
    }
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-jobs": {"task": "apps.core.tasks.sweep_jobs_task", "schedule": 60.0},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Static files come straight from the app folders outside production (no collectstatic step).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# --- Upscaling (apps.upscales, workers.upscale) ----------------------------------------------
# Weights files live here (``manage.py upscale_models fetch|import`` puts them there); a worker
# without them upscales with the labelled classical fallback. UPSCALE_PINS accepts more
# checkpoints of the registry's architectures: "x4plus=<sha256>,general-x4v3=<sha256>".
# Content credentials (C2PA) in every exported file and upscaled master: PEM certificate chain
# and private key paths. Without them the IPTC/XMP "AI-generated" disclosure is still written
# and the pages say content credentials are off.
C2PA_SIGNING_CERT = env_str("C2PA_SIGNING_CERT", "")
C2PA_SIGNING_KEY = env_str("C2PA_SIGNING_KEY", "")
C2PA_SIGNING_ALG = env_str(
    "C2PA_SIGNING_ALG", "es256"
)  # must match the key: es256, ps256, ed25519…
if bool(C2PA_SIGNING_CERT) != bool(C2PA_SIGNING_KEY):
    raise ImproperlyConfigured("C2PA_SIGNING_CERT and C2PA_SIGNING_KEY go together")
for _path in (C2PA_SIGNING_CERT, C2PA_SIGNING_KEY):
    if _path and not Path(_path).is_file():
        raise ImproperlyConfigured(f"C2PA signing file {_path} does not exist")

UPSCALE_MODELS_DIR = Path(env_str("UPSCALE_MODELS_DIR", str(VAR_DIR / "models"))).resolve()
UPSCALE_PINS = env_list("UPSCALE_PINS", [])
UPSCALE_DEVICE = env_str("UPSCALE_DEVICE", "")  # "" = CUDA when there is one, else the CPU
UPSCALE_PRECISION = env_str("UPSCALE_PRECISION", "auto")  # auto (fp16 on CUDA) | bf16 | fp32
UPSCALE_TILE = env_int("UPSCALE_TILE", 0)  # input pixels per tile; 0 = from free GPU memory
# torch.compile mode for the network: "" (off), default, reduce-overhead, max-autotune,
# max-autotune-no-cudagraphs. Each gpu worker process compiles once, in its first job (the page
# says "Preparing the model for the GPU"); a compiler that fails leaves the network eager.
UPSCALE_COMPILE = env_str("UPSCALE_COMPILE", "")
# Deflate level of the PNG master, zlib's 0-9 scale. With ISA-L (the isal package, the default
# when installed) 2 is its balanced level and 3 or more its best; without it, zlib at this level.
UPSCALE_PNG_LEVEL = env_int("UPSCALE_PNG_LEVEL", 2)
UPSCALE_MAX_OUTPUT_PIXELS = env_int("UPSCALE_MAX_OUTPUT_PIXELS", 300_000_000)

# --- Channel exports and packs (apps.exports) -----------------------------------------------
# Packs are rebuilt on demand, so old ones are deleted (file and row) after this many days; the
# beat entry below runs the expiry hourly. Signed pack links live for DRAFTROOM_PACK_LINK_SECONDS
# and still re-check the person's membership when opened.
DRAFTROOM_PACK_EXPIRY_DAYS = env_int("DRAFTROOM_PACK_EXPIRY_DAYS", 7)
DRAFTROOM_PACK_LINK_SECONDS = env_int("DRAFTROOM_PACK_LINK_SECONDS", 15 * 60)
CELERY_BEAT_SCHEDULE["expire-old-packs"] = {
    "task": "apps.exports.tasks.packs_expire_task",
    "schedule": 3600.0,
}
