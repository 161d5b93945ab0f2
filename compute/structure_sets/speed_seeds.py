"""The speed task's seeds: one cubic cell per crystal, which the task repeats to each size.

Provenance: the crystals and lattice constants of the MD cells (compute.structure_sets.
md_cells), so that a speed figure and a dynamics run time the same crystal.
"""

from __future__ import annotations

from ase.build import bulk

from compute.structure_sets.md_cells import CELLS
from compute.structures import LabelledStructure, StructureSetSpec

SEEDS = ("Cu-fcc", "Si-diamond", "MgO-rocksalt")


def speed_seeds() -> list[LabelledStructure]:
    crystals = {f"{formula}-{kind}": (formula, kind, a) for _, formula, kind, a, _ in CELLS}
    seeds = []
    for label in SEEDS:
        formula, kind, a = crystals[label]
        seeds.append((label, bulk(formula, kind, a=a, cubic=True), {}))
    return seeds


SPEED_SEEDS = StructureSetSpec(
    name="speed-seeds",
    description="Cubic cells that the speed task repeats to growing sizes",
    build=speed_seeds,
)
