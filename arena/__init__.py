"""The arena from Python: a registered model's ASE calculator by name.

    import arena
    atoms.calc = arena.calculator("CHGNet")
    arena.models()          # the registered names

It reads the registry of the database the settings name (DATABASE_URL, else the
project's SQLite file), so run ``python manage.py migrate`` and ``seed_registry`` once.
"""

from __future__ import annotations

import os

from ase.calculators.calculator import Calculator


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena_site.settings")
    # Jupyter runs an event loop, in which Django refuses plain database calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    import django

    django.setup()


def models() -> list[str]:
    """Names of the registered models, enabled or not."""
    _django()
    from models_app.models import MLIP

    return list(MLIP.objects.values_list("name", flat=True))


def calculator(name: str) -> Calculator:
    """The ASE calculator of the registered model ``name`` (any case).

    Raises ``compute.errors.ComputeError`` with a one-line message if the name is
    unknown, the model needs another worker environment, or its checkpoint cannot load.
    """
    _django()
    from models_app.loading import calculator_for
    from models_app.selectors import model_by_name, model_spec

    return calculator_for(model_spec(model_by_name(name)))
