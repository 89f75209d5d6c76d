"""Settings for the test suite: the real settings module, with test-only overrides.

The environment still decides the database (DATABASE_URL), so `make test` runs the
same suite on SQLite and on PostgreSQL.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("HTTPS", "false")
os.environ["TASKS_BACKEND"] = "immediate"

from mlsys_reader.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}

# Outbound HTTP in tests is faked with `responses`; never sleep between retries or
# between arXiv requests.
ARXIV_MIN_INTERVAL = 0
HTTP_BACKOFF_FACTOR = 0
HTTP_RETRY_AFTER_MAX = 0
