import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlsys_reader.settings")

application = get_asgi_application()

from mlsys_reader.serving import require_secret_key  # noqa: E402 (after setup)

require_secret_key()
