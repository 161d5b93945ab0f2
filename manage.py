#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena_site.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:  # a setting from the environment is wrong
        sys.exit(f"error: {' '.join(str(exc).split())}")
    except OperationalError as exc:  # the database named by the settings is not there
        sys.exit(f"error: cannot use the database: {' '.join(str(exc).split())}")
