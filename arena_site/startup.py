"""A wrong setting or an absent database at start-up, said in one line by every entry point."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
# gunicorn's exit status for a worker that cannot boot: its master stops instead of
# starting the worker again and again.
WORKER_BOOT_ERROR = 3


def in_one_line(start: Callable[[], T], *, exit_status: int = 1) -> T:
    """``start()``; a settings or database error exits with one line on stderr."""
    from django.core.exceptions import ImproperlyConfigured
    from django.db.utils import OperationalError

    try:
        return start()
    except ImproperlyConfigured as exc:  # a setting from the environment is wrong
        message = f"error: {' '.join(str(exc).split())}"
    except OperationalError as exc:  # the database named by the settings is not there
        message = f"error: cannot use the database: {' '.join(str(exc).split())}"
    print(message, file=sys.stderr, flush=True)
    sys.exit(exit_status)
