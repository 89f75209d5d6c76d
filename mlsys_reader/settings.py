"""Settings for mlsys-reader, every value read from the environment.

The table of variables lives in README.md ("Configuration"). Malformed values raise
ImproperlyConfigured naming the variable; manage.py turns that into one line.
"""

import zoneinfo
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from mlsys_reader.lib.env import env_bool, env_float, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", False)

# Without DEBUG and without a key, SECRET_KEY stays empty: commands that sign nothing
# (migrate, makemigrations --check, collectstatic) still run, Django refuses any use of
# the empty key (a session, a CSRF token, a password reset), and the server entry
# points (wsgi, asgi, runserver) refuse to start: see mlsys_reader.serving.
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production-mlsys-reader"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("http://", "https://")) or _origin.count("/") != 2:
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS item {_origin!r} must be an origin such as "
            "https://reader.example.edu (scheme and host, no path)"
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.syndication",
    "taggit",
    "django_tasks_db",
    "accounts",
    "papers",
    "courses",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "mlsys_reader.urls"
WSGI_APPLICATION = "mlsys_reader.wsgi.application"

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

_database_url = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
try:
    DATABASES = {
        "default": dj_database_url.parse(
            _database_url,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            # Off by default, as in Django: a check is one more round trip on every
            # request; turn it on where connections are dropped behind your back.
            conn_health_checks=env_bool("DATABASE_HEALTH_CHECKS", False),
        )
    }
except ValueError as exc:
    # Never echo the URL itself: it may hold the database password.
    _scheme = _database_url.split(":", 1)[0] if ":" in _database_url else _database_url[:20]
    raise ImproperlyConfigured(
        f"DATABASE_URL (scheme {_scheme!r}) is not a database URL: {exc}"
    ) from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Bind parameters on the server and prepare statements a connection runs twice:
    # planning costs PostgreSQL more than executing the small queries of a request.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=2
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if not env_str("DATABASE_URL"):
        VAR_DIR.mkdir(exist_ok=True)  # the embedded default lives in <repo>/var/
    # Wait for a concurrent writer (the task worker) instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# Django's cache (nothing relies on it being shared). Rendered schedules are kept
# in-process by courses/schedule_cache.py, keyed by the course's revision.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 500},
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.AccountBackend"]
# Sessions in signed cookies: no database read on every request. They cannot be
# deleted server-side, so logging out ends all of a user's sessions through the
# session hash (accounts.User._get_session_auth_hash).
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_SAMESITE = "Lax"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "courses:dashboard"
LOGOUT_REDIRECT_URL = "courses:home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
if TIME_ZONE not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not an IANA time zone")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# A request body apart from its files (pasted BibTeX) may be this large; a paste beyond
# it is refused on the import form. Uploaded files are kept in memory up to the second
# size (a temporary file beyond), and BIBTEX_MAX_BYTES refuses larger BibTeX files.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

_email_backend = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
_email_options = {}
if _email_backend == "django.core.mail.backends.smtp.EmailBackend":
    _email_options = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25, minimum=1),
        "username": env_str("EMAIL_HOST_USER", ""),
        "password": env_str("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "timeout": 10,
    }
MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": _email_options}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "mlsys-reader <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background work: Django's tasks framework. The database backend needs
# `manage.py db_worker`; TASKS_BACKEND=immediate runs tasks inline (tests, tiny setups).
_tasks_backend = env_str("TASKS_BACKEND", "database")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
if _tasks_backend not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND={_tasks_backend!r} must be one of {', '.join(_TASK_BACKENDS)}"
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[_tasks_backend]}}

# Outbound HTTP (papers import). The host allow-list is built from these URLs.
ARXIV_API_URL = env_url("ARXIV_API_URL", "https://export.arxiv.org/api/query")
CROSSREF_API_URL = env_url("CROSSREF_API_URL", "https://api.crossref.org")
DOI_RESOLVER_URL = env_url("DOI_RESOLVER_URL", "https://doi.org")
DATACITE_API_URL = env_url("DATACITE_API_URL", "https://api.datacite.org")
CONTACT_EMAIL = env_str("CONTACT_EMAIL", "admin@localhost")
HTTP_TIMEOUT = env_int("HTTP_TIMEOUT", 20, minimum=1)
HTTP_RETRIES = env_int("HTTP_RETRIES", 3, minimum=0)
HTTP_BACKOFF_FACTOR = env_float("HTTP_BACKOFF_FACTOR", 1.0, minimum=0)
HTTP_RETRY_AFTER_MAX = env_int("HTTP_RETRY_AFTER_MAX", 30, minimum=0)
# arXiv asks for at most one request every 3 seconds; shared by all processes.
ARXIV_MIN_INTERVAL = env_float("ARXIV_MIN_INTERVAL", 3.0, minimum=0)
BIBTEX_MAX_BYTES = env_int("BIBTEX_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
# Imports of up to this many items run inline; larger ones run as a background task.
IMPORT_INLINE_MAX_ITEMS = env_int("IMPORT_INLINE_MAX_ITEMS", 20, minimum=1)
IMPORT_MAX_IDENTIFIERS = env_int("IMPORT_MAX_IDENTIFIERS", 500, minimum=1)

# Security. With DEBUG off these defaults pass `manage.py check --deploy`.
# HTTPS=false is for a deployment that is reached over plain HTTP on purpose
# (for example docker compose on a laptop); it turns off the HTTPS-only settings.
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# No inline scripts or styles anywhere, nothing from another origin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

_log_level = env_str("LOG_LEVEL", "INFO")
LOG_LEVEL = _log_level.upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"LOG_LEVEL={_log_level!r} must be DEBUG, INFO, WARNING, ERROR or CRITICAL"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# Demo accounts with published passwords may only exist on a development machine.
DEMO_ACCOUNTS_ALLOWED = DEBUG
