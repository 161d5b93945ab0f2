"""Modules imported when first used, not when the registry loads.

Every process that loads the task registry (the web server, each ``manage.py``
command, each worker) imported pymatgen, sympy and phonopy at start-up through three
tasks' protocols: 2.4 of 3.7 s of CPU to start ``manage.py check``. A protocol names
its heavy helper module with ``lazy_module`` instead, and the import happens in the job
that first calls into it.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """A stand-in for module ``name`` that imports it at the first attribute read."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self.__name__)
        return getattr(self._module, attribute)


def lazy_module(name: str) -> ModuleType:
    """Module ``name``, imported at the first attribute read."""
    return LazyModule(name)
