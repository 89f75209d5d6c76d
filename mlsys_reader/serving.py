"""What must hold before the app serves requests."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MISSING_SECRET_KEY = "SECRET_KEY is required when DEBUG is off (set SECRET_KEY or SECRET_KEY_FILE)"


def require_secret_key() -> None:
    """Refuse to serve without a secret key (settings leave it empty when DEBUG is off
    and none is given): every session and CSRF token would fail."""
    try:
        settings.SECRET_KEY  # noqa: B018 (Django raises on an empty key)
    except ImproperlyConfigured:
        raise ImproperlyConfigured(MISSING_SECRET_KEY) from None
