"""The task registry loads without the heavy libraries its protocols use in jobs."""

from __future__ import annotations

import subprocess
import sys

from compute.lazy import lazy_module
from tests.conftest import ROOT

HEAVY = ("pymatgen", "phonopy", "sympy", "torch", "scipy.stats")


def test_loading_the_registry_imports_no_heavy_library():
    """Every process (web, command, worker) loads the registry at start-up."""
    code = (
        "import sys, compute.tasks; compute.tasks.task_titles(); "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_starting_django_imports_no_heavy_library():
    """What every ``manage.py`` command pays before it does anything: its apps, the
    registry, the model families and the queues."""
    code = (
        "import os, sys, django; "
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'arena_site.settings'); "
        f"django.setup(); print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_lazy_module_is_the_module_at_first_use():
    import json

    lazy = lazy_module("json")
    assert lazy.dumps is json.dumps and lazy.__name__ == "json"
