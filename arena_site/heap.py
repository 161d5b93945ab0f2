"""A web process's start-up objects, kept out of the garbage collector's full passes."""

from __future__ import annotations

import gc


def settle() -> None:
    """Import the views, collect, then freeze what start-up built (``gc.freeze``).

    A page builds tens of thousands of short-lived objects, and the collector promotes
    those still alive at a young pass; every few requests that triggers a full pass over
    the whole heap: some 150,000 objects of imported modules that never die, which cost
    a task page as much again as its own work. Frozen, they are never scanned.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports the URLconf, its views and theirs)
    gc.collect()
    gc.freeze()
