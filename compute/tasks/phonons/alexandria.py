"""Alexandria's PBE phonon references: 1,170 binary crystals with C_V at 300 K.

Vendored beside this module (``alexandria-binary-pbe-phonon.json.gz``, provenance in
``PROVENANCE.md``): per crystal its Materials Project id, formula, cell (Å), symbols,
fractional positions and ``heat_capacity`` in J/K per mole of the stored cell.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

from ase import Atoms

from compute.tasks.spec import LabelledStructure, StructureSetSpec

DATA = Path(__file__).with_name("alexandria-binary-pbe-phonon.json.gz")
SOURCE = "Alexandria PBE phonons (matcalc benchmark_data, CC BY 4.0)"
# The 40 crystals with the fewest supercell atoms × (displacements + 1) under the
# protocol (≥ 10 Å supercells; ties by id): 30 to 162 atom evaluations each.
SMALL_IDS = (
    "mp-541837", "mp-9897", "mp-27484", "mp-568233", "mp-568722", "mp-569595", "mp-1000",
    "mp-22898", "mp-22903", "mp-571102", "mp-571222", "mp-614603", "mp-1022", "mp-11327",
    "mp-1747", "mp-2784", "mp-568662", "mp-8041", "mp-8426", "mp-640058", "mp-753746",
    "mp-10159", "mp-10378", "mp-33018", "mp-32750", "mp-555410", "mp-8352", "mp-573588",
    "mp-573608", "mp-2072", "mp-22003", "mp-22858", "mp-22859", "mp-22897", "mp-23177",
    "mp-29266", "mp-558071", "mp-568949", "mp-706", "mp-9889",
)  # fmt: skip


@cache
def _entries() -> tuple[dict[str, Any], ...]:
    with gzip.open(DATA, "rt") as handle:
        return tuple(json.load(handle))


def _labelled(entry: dict[str, Any]) -> LabelledStructure:
    atoms = Atoms(
        entry["symbols"], cell=entry["cell"], scaled_positions=entry["scaled_positions"], pbc=True
    )
    reference = {"source": SOURCE, "mp_id": entry["mp_id"],
                 "heat_capacity_300k": entry["heat_capacity"]}  # fmt: skip
    return f"{entry['formula']}-{entry['mp_id']}", atoms, reference


def alexandria_structures() -> list[LabelledStructure]:
    return [_labelled(entry) for entry in _entries()]


def alexandria_small_structures() -> list[LabelledStructure]:
    wanted = set(SMALL_IDS)
    return [_labelled(entry) for entry in _entries() if entry["mp_id"] in wanted]


ALEXANDRIA_SET = StructureSetSpec(
    name="alexandria-phonons",
    description="1,170 binary crystals with Alexandria PBE heat capacities at 300 K",
    build=alexandria_structures,
)
ALEXANDRIA_SMALL_SET = StructureSetSpec(
    name="alexandria-phonons-small",
    description="The 40 Alexandria phonon crystals cheapest to run (smallest supercells)",
    build=alexandria_small_structures,
)
