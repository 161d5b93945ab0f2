"""Relaxation fidelity as Matbench Discovery measures it: RMSD and symmetry kept.

The RMSD between the model-relaxed and the DFT structure comes from pymatgen's
``StructureMatcher(stol=1.0, scale=False)``, normalised by the free length per atom
(V/N)^(1/3); structures it cannot match count as 1.0, Matbench Discovery's penalty.
Space groups come from spglib at a loose and a strict tolerance.
"""

from __future__ import annotations

import spglib
from ase import Atoms

UNMATCHED_RMSD = 1.0
SYMPRECS = {"loose": 1e-2, "strict": 1e-5}


def normalised_rmsd(relaxed: Atoms, reference: Atoms) -> float:
    """StructureMatcher's RMS distance of ``relaxed`` from ``reference``, in units of
    (V/N)^(1/3); ``UNMATCHED_RMSD`` when no mapping within its tolerances exists."""
    # pymatgen here, not at the top: the metrics (loaded with the registry by every
    # process) read SYMPRECS from this module, and pymatgen costs a second to import.
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.io.ase import AseAtomsAdaptor

    matcher = StructureMatcher(stol=1.0, scale=False)
    adaptor = AseAtomsAdaptor()
    found = matcher.get_rms_dist(adaptor.get_structure(relaxed), adaptor.get_structure(reference))
    return UNMATCHED_RMSD if found is None else float(found[0])


def space_group(atoms: Atoms, symprec: float) -> int | None:
    """The international space-group number at ``symprec`` (Å), None where spglib finds none."""
    cell = (atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers)
    dataset = spglib.get_symmetry_dataset(cell, symprec=symprec)
    return None if dataset is None else int(dataset.number)


def space_groups(atoms: Atoms) -> dict[str, int | None]:
    """Space-group numbers at each of ``SYMPRECS``, keyed by its name."""
    return {name: space_group(atoms, symprec) for name, symprec in SYMPRECS.items()}
