"""Cells of about a hundred atoms or more for the dynamics tasks, and the speed task's seeds."""

from __future__ import annotations

from ase.build import bulk

from compute.tasks.spec import LabelledStructure, StructureSetSpec

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


def speed_seeds() -> list[LabelledStructure]:
    """One cubic cell per crystal, which the speed task repeats to each size."""
    return [
        ("Cu-fcc", bulk("Cu", "fcc", a=3.61, cubic=True), {}),
        ("Si-diamond", bulk("Si", "diamond", a=5.43, cubic=True), {}),
        ("MgO-rocksalt", bulk("MgO", "rocksalt", a=4.21, cubic=True), {}),
    ]


MD_CELLS = StructureSetSpec(
    name="md-cells",
    description="Crystals of 108 to 216 atoms at experimental lattice constants, for MD",
    build=md_cells,
)
SPEED_SEEDS = StructureSetSpec(
    name="speed-seeds",
    description="Cubic cells that the speed task repeats to growing sizes",
    build=speed_seeds,
)
