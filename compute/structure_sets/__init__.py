"""Structure sets that several tasks share, each with its rule or provenance beside it.

``StructureSetSpec`` lives here, below ``compute.tasks``, so that a set module can be
imported on its own: ``compute.tasks`` imports every task, and the tasks import their sets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ase import Atoms

LabelledStructure = tuple[str, Atoms, dict[str, Any]]  # label, atoms, reference values


@dataclass(frozen=True)
class StructureSetSpec:
    """A structure set a task needs; ``build`` returns its structures in order."""

    name: str
    description: str
    build: Callable[[], list[LabelledStructure]]
