"""The vacancy task's structure sets: Angsten et al.'s fcc and hcp elements with their PBE
vacancy energies (``angsten2014-vacancy-*.csv``, see PROVENANCE.md).

Each crystal is built from the table's structure type and PBE volume per atom: the
conventional cubic fcc cell (4 atoms) and the hcp cell at the ideal c/a (2 atoms). An
element with a spin-polarised row (``Co_mag``) takes that row, the PBE ground state.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from ase import Atoms
from ase.build import bulk

from compute.tasks.spec import LabelledStructure, StructureSetSpec

HERE = Path(__file__).parent
SOURCE = "PBE (Angsten et al., New J. Phys. 16, 015018, 2014)"
MAGNETIC = "_mag"
# The barrier MLIP Arena compares with; hcp's ``e_vacmig_v`` is the table's other path.
BARRIER_COLUMN = "e_vacmig"


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def rows(structure_type: str) -> dict[str, dict[str, str]]:
    """The table's rows by element, spin-polarised rows replacing the others."""
    path = HERE / f"angsten2014-vacancy-{structure_type}.csv"
    with path.open(newline="") as handle:
        table = list(csv.DictReader(handle))
    chosen: dict[str, dict[str, str]] = {}
    for row in sorted(table, key=lambda r: r["symbol"].endswith(MAGNETIC)):
        chosen[row["symbol"].removesuffix(MAGNETIC)] = row
    return chosen


def crystal(symbol: str, structure_type: str, volume_a3_per_atom: float) -> Atoms:
    """fcc: the cubic cell of 4 atoms; hcp: 2 atoms at the ideal c/a, both at the volume."""
    if structure_type == "fcc":
        return bulk(symbol, "fcc", a=(4.0 * volume_a3_per_atom) ** (1 / 3), cubic=True)
    a = (math.sqrt(2.0) * volume_a3_per_atom) ** (1 / 3)  # V/atom = a³/√2 at c = √(8/3) a
    return bulk(symbol, "hcp", a=a, c=a * math.sqrt(8 / 3))


def label(symbol: str, structure_type: str) -> str:
    """A label no other set uses (EOS and speed sets have their own ``Cu``, ``Cu-fcc``)."""
    return f"{symbol}-{structure_type}-vacancy"


def structures(structure_type: str) -> list[LabelledStructure]:
    found = []
    for symbol, row in sorted(rows(structure_type).items()):
        reference: dict[str, object] = {
            "source": SOURCE + (", spin-polarised" if row["symbol"].endswith(MAGNETIC) else ""),
            "structure_type": structure_type,
            "volume_a3_per_atom": float(row["volume_per_atom"]),
        }
        for key, column in (
            ("vacancy_formation_ev", "e_vacform"),
            ("migration_barrier_ev", BARRIER_COLUMN),
        ):
            if (value := _number(row[column])) is not None:
                reference[key] = value
        atoms = crystal(symbol, structure_type, float(row["volume_per_atom"]))
        found.append((label(symbol, structure_type), atoms, reference))
    return found


VACANCY_FCC = StructureSetSpec(
    name="vacancy-fcc",
    description="Elements in fcc at their PBE volume, with PBE vacancy energies (Angsten 2014)",
    build=lambda: structures("fcc"),
)
VACANCY_HCP = StructureSetSpec(
    name="vacancy-hcp",
    description="Elements in ideal hcp at their PBE volume, with PBE vacancy energies "
    "(Angsten 2014)",
    build=lambda: structures("hcp"),
)
