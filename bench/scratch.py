"""The arena a bench script runs in: a scratch SQLite database (unless DATABASE_URL is
set), migrated and seeded, jobs in-process unless the script keeps Redis."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path


def scratch_arena(*, in_process: bool = True) -> str:
    """Set up Django on a migrated, seeded database; returns the database's vendor."""
    scratch = tempfile.mkdtemp(prefix="arena-bench-")
    os.environ.setdefault("SQLITE_PATH", str(Path(scratch) / "bench.sqlite3"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena_site.settings")
    if in_process:
        os.environ["REDIS_URL"] = ""

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("seed_registry", stdout=io.StringIO())
    return connection.vendor
