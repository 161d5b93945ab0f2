"""Cells of about a hundred atoms or more for the dynamics tasks (nve, heating).

Provenance: experimental room-temperature lattice constants. Those of the elements are
ASE's reference states (``ase.data.reference_states``: Cu 3.61, Al 4.05, Ni 3.52,
Au 4.08, Pt 3.92, Si 5.43 Å); MgO 4.21 and NaCl 5.64 Å are the commonly tabulated
experimental values. The speed task's seeds (compute.structure_sets.speed_seeds) are
cubic cells of three of these crystals.
"""

from __future__ import annotations

from ase.build import bulk

from compute.structures import LabelledStructure, StructureSetSpec

# label, formula unit, crystal structure, a (Å), repeats of the cubic cell
CELLS = (
    ("Cu-fcc-108", "Cu", "fcc", 3.61, 3),
    ("Al-fcc-108", "Al", "fcc", 4.05, 3),
    ("Ni-fcc-108", "Ni", "fcc", 3.52, 3),
    ("Au-fcc-108", "Au", "fcc", 4.08, 3),
    ("Pt-fcc-108", "Pt", "fcc", 3.92, 3),
    ("Si-diamond-216", "Si", "diamond", 5.43, 3),
    ("MgO-rocksalt-216", "MgO", "rocksalt", 4.21, 3),
    ("NaCl-rocksalt-216", "NaCl", "rocksalt", 5.64, 3),
)


def md_cells() -> list[LabelledStructure]:
    return [
        (label, bulk(formula, kind, a=a, cubic=True).repeat(n), {})
        for label, formula, kind, a, n in CELLS
    ]


MD_CELLS = StructureSetSpec(
    name="md-cells",
    description="Crystals of 108 to 216 atoms at experimental lattice constants, for MD",
    build=md_cells,
)
