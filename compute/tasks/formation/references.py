"""The vendored references (data/PROVENANCE.md) and the structure sets made of them.

``mp-elemental-references``: the Materials Project's lowest-energy PBE structure of each
of 88 elements, which every model relaxes once to get its own μᵢ. ``wbm-random-972``:
972 WBM crystals as relaxed by PBE, with their energies and formation energies.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from compute.errors import TaskFailed
from compute.tasks.spec import LabelledStructure, StructureSetSpec

DATA = Path(__file__).parent / "data"
SOURCE = "WBM PBE, MP2020-corrected (Matbench Discovery)"


@cache
def _read(name: str) -> Any:
    with gzip.open(DATA / name, "rt") as handle:
        return json.load(handle)


def _atoms(entry: dict[str, Any]) -> Atoms:
    return Atoms(
        symbols=entry["symbols"], scaled_positions=entry["frac"], cell=entry["cell"], pbc=True
    )


def elemental_reference(symbol: str) -> Atoms:
    """The Materials Project's reference structure of element ``symbol``."""
    references = _read("mp-elemental-refs.json.gz")
    if symbol not in references:
        raise TaskFailed(f"no Materials Project elemental reference structure for {symbol}")
    return _atoms(references[symbol])


def reference_label(symbol: str) -> str:
    """The label of ``symbol``'s reference structure in its set (``mp-Cu``): apart from
    the bare element labels of other sets (the Delta set's ``Cu``)."""
    return f"mp-{symbol}"


def is_reference_of(atoms: Atoms, symbol: str) -> bool:
    """Whether ``atoms`` is the reference structure of ``symbol`` itself (to 1e-6 Å)."""
    reference = elemental_reference(symbol)
    return (
        len(atoms) == len(reference)
        and list(atoms.numbers) == list(reference.numbers)
        and np.allclose(atoms.cell.array, reference.cell.array, atol=1e-6)
        and np.allclose(atoms.positions, reference.positions, atol=1e-6)
    )


def element_structures() -> list[LabelledStructure]:
    references = _read("mp-elemental-refs.json.gz")
    return [
        (
            reference_label(symbol),
            _atoms(entry),
            {"source": "Materials Project PBE", "energy_per_atom_ev": entry["energy_per_atom"]},
        )
        for symbol, entry in references.items()
    ]


def wbm_structures() -> list[LabelledStructure]:
    structures = []
    for entry in _read("wbm-random-972.json.gz"):
        atoms = _atoms(entry)
        natoms = len(atoms)
        reference = {
            "source": SOURCE,
            "formation_energy_per_atom": entry["corrected_formation_energy_per_atom"],
            "formation_energy_per_atom_uncorrected": entry["formation_energy_per_atom"],
            "energy_per_atom_ev": entry["energy"] / natoms,
            "corrected_energy_per_atom_ev": entry["corrected_energy"] / natoms,
            "volume_a3_per_atom": atoms.get_volume() / natoms,
        }
        structures.append((entry["material_id"], atoms, reference))
    return structures


ELEMENTS_SET = StructureSetSpec(
    name="mp-elemental-references",
    description="The Materials Project's lowest-energy PBE structure of 88 elements (matcalc)",
    build=element_structures,
)
WBM_SET = StructureSetSpec(
    name="wbm-random-972",
    description="972 random WBM crystals relaxed with PBE (Matbench Discovery, via matcalc)",
    build=wbm_structures,
)
