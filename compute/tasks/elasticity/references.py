"""Materials Project PBE elastic moduli of 3,953 binary crystals, vendored beside this file
(PROVENANCE.md), as the task's structure sets: the whole set, and a fixed subset.

Each structure's reference holds MP's ``k_vrh_gpa`` and ``g_vrh_gpa`` and the crystal
system of the MP structure (moyopy, symprec 0.1 Å), which colours the parity plots.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import moyopy
import numpy as np
from ase import Atoms

from compute.errors import ComputeError
from compute.tasks.spec import LabelledStructure, StructureSetSpec

REFERENCE_FILE = Path(__file__).with_name("mp-binary-pbe-elasticity-2025.1.json.gz")
SOURCE = "Materials Project PBE (matcalc benchmark_data, mp-binary-pbe-elasticity-2025.1)"
SYMPREC_A = 0.1
# The subset: per crystal system and tercile of K, a share of the structures of at most
# SUBSET_MAX_ATOMS atoms in proportion to the stratum's size (one at least), drawn with
# SUBSET_SEED; sized so that CHGNet runs it in under 30 minutes on 2 cores (bench/elasticity.py).
SUBSET_SIZE = 40
SUBSET_MAX_ATOMS = 8
SUBSET_SEED = 2025
# Space-group numbers at which each crystal system ends.
CRYSTAL_SYSTEMS = (
    (2, "triclinic"),
    (15, "monoclinic"),
    (74, "orthorhombic"),
    (142, "tetragonal"),
    (167, "trigonal"),
    (194, "hexagonal"),
    (230, "cubic"),
)


class ReferenceFileError(ComputeError):
    """The reference file is missing or not the list of entries this task reads."""


def crystal_system(atoms: Atoms) -> str:
    """The crystal system of ``atoms``'s space group, found by moyopy at SYMPREC_A."""
    cell = moyopy.Cell(atoms.cell[:].tolist(), atoms.get_scaled_positions().tolist(),
                       atoms.numbers.tolist())  # fmt: skip
    number = moyopy.MoyoDataset(cell, symprec=SYMPREC_A).number
    return next(name for last, name in CRYSTAL_SYSTEMS if number <= last)


def read_entries(path: Path) -> list[dict[str, Any]]:
    """The file's entries; raises ReferenceFileError in one line naming what is wrong."""
    if not path.exists():
        raise ReferenceFileError(f"{path}: no such reference file")
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            entries = json.load(handle)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReferenceFileError(f"{path}: not gzipped JSON ({exc})") from exc
    if not isinstance(entries, list) or not entries:
        raise ReferenceFileError(f"{path}: expected a non-empty list of entries")
    return entries


def entry_structure(entry: dict[str, Any]) -> LabelledStructure:
    """(MP id, atoms, reference) of one entry; KeyError, TypeError or ValueError if malformed."""
    lattice = np.asarray(entry["structure"]["lattice"]["matrix"], dtype=float)
    sites = entry["structure"]["sites"]
    atoms = Atoms(
        [site["species"][0]["element"] for site in sites],
        scaled_positions=[site["abc"] for site in sites],
        cell=lattice,
        pbc=True,
    )
    k_gpa, g_gpa = float(entry["bulk_modulus_vrh"]), float(entry["shear_modulus_vrh"])
    if not (np.isfinite(k_gpa) and np.isfinite(g_gpa)):
        raise ValueError("non-finite moduli")
    reference = {
        "source": SOURCE,
        "k_vrh_gpa": k_gpa,
        "g_vrh_gpa": g_gpa,
        "crystal_system": crystal_system(atoms),
    }
    return str(entry["mp_id"]), atoms, reference


@cache
def mp_structures(path: Path) -> tuple[LabelledStructure, ...]:
    """Every entry of ``path`` in file order; raises ReferenceFileError naming the first
    malformed entry."""
    structures = []
    # moyopy notes each cell whose primitive operations it drops; the space group stands.
    logging.getLogger("moyo").setLevel(logging.ERROR)
    for number, entry in enumerate(read_entries(path), start=1):
        try:
            structures.append(entry_structure(entry))
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise ReferenceFileError(
                f"{path}: entry {number} is malformed ({type(exc).__name__}: {exc})"
            ) from exc
    return tuple(structures)


def subset(structures: tuple[LabelledStructure, ...]) -> list[LabelledStructure]:
    """The fixed rule of the subset (see SUBSET_SIZE), in the set's order."""
    candidates = [s for s in structures if len(s[1]) <= SUBSET_MAX_ATOMS]
    by_system: dict[str, list[LabelledStructure]] = defaultdict(list)
    for structure in candidates:
        by_system[structure[2]["crystal_system"]].append(structure)
    rng = np.random.default_rng(SUBSET_SEED)
    chosen: set[str] = set()
    for system in sorted(by_system):
        members = sorted(by_system[system], key=lambda s: (s[2]["k_vrh_gpa"], s[0]))
        for tercile in np.array_split(np.arange(len(members)), 3):
            if not len(tercile):
                continue
            share = max(1, round(SUBSET_SIZE * len(tercile) / len(candidates)))
            picks = rng.choice(tercile, size=min(share, len(tercile)), replace=False)
            chosen |= {members[i][0] for i in picks}
    return [s for s in structures if s[0] in chosen]


def full_set() -> list[LabelledStructure]:
    return list(mp_structures(REFERENCE_FILE))


def subset_set() -> list[LabelledStructure]:
    return subset(mp_structures(REFERENCE_FILE))


MP_ELASTICITY = StructureSetSpec(
    name="mp-elasticity",
    description="3,953 binary crystals with Materials Project PBE K_VRH and G_VRH",
    build=full_set,
)
MP_ELASTICITY_SUBSET = StructureSetSpec(
    name="mp-elasticity-subset",
    description=(
        f"A fixed subset of mp-elasticity: per crystal system and tercile of K, crystals of "
        f"at most {SUBSET_MAX_ATOMS} atoms drawn in proportion (seed {SUBSET_SEED})"
    ),
    build=subset_set,
)
