#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlsys_reader.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        # Import the settings first so that a bad environment value is one line
        # naming the variable, not a traceback from deep inside Django.
        from django.conf import settings

        settings.INSTALLED_APPS  # noqa: B018
        if sys.argv[1:2] == ["runserver"]:
            from mlsys_reader.serving import require_secret_key

            require_secret_key()
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        sys.exit(2)

    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
