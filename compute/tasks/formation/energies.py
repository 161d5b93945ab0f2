"""Formation energies from the model's own elemental energies, with MP2020 corrections.

E_form = E/N − Σᵢ xᵢ μᵢ, with xᵢ the atomic fraction of element i and μᵢ the energy per
atom of its reference structure. Where the model's family is trained on Materials
Project energies (``Family.energy_correction``), pymatgen's
``MaterialsProject2020Compatibility`` corrects the compound's energy, as Matbench
Discovery does; the run parameters it needs (GGA or GGA+U and the U values) follow the
Materials Project's rule, read from pymatgen's ``MPRelaxSet``.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import cache

from ase import Atoms
from pymatgen.core import Composition
from pymatgen.entries.compatibility import MaterialsProject2020Compatibility
from pymatgen.entries.computed_entries import ComputedStructureEntry
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.vasp.sets import MPRelaxSet

from compute.errors import TaskFailed

MP2020 = "MP2020"
CORRECTIONS = (MP2020,)


def formation_energy_per_atom(
    energy_ev: float, symbols: Sequence[str], chemical_potentials: Mapping[str, float]
) -> float:
    """E/N − Σᵢ xᵢ μᵢ (eV/atom) for a cell of ``symbols`` with total energy ``energy_ev``;
    ``chemical_potentials`` in eV/atom. Raises TaskFailed for an element without one."""
    counts = Counter(symbols)
    missing = sorted(set(counts) - set(chemical_potentials))
    if missing:
        raise TaskFailed(f"no elemental reference energy for {', '.join(missing)}")
    natoms = len(symbols)
    reference = sum(n / natoms * chemical_potentials[el] for el, n in counts.items())
    return energy_ev / natoms - reference


def mp_run_parameters(composition: Composition) -> dict[str, object]:
    """The Materials Project's run type and U values for ``composition``: GGA+U with
    MPRelaxSet's U where the most electronegative element is O or F, else GGA."""
    most_electronegative = max(composition.elements, key=lambda el: el.X).symbol
    table = MPRelaxSet.CONFIG["INCAR"]["LDAUU"].get(most_electronegative, {})
    hubbards = {el.symbol: table[el.symbol] for el in composition.elements if el.symbol in table}
    return {"run_type": "GGA+U" if hubbards else "GGA", "hubbards": hubbards}


@cache
def _mp2020() -> MaterialsProject2020Compatibility:
    return MaterialsProject2020Compatibility(check_potcar=False)


def mp2020_correction_ev(atoms: Atoms, energy_ev: float) -> float:
    """The MP2020 correction (eV per cell) of ``atoms`` with total energy ``energy_ev``;
    raises TaskFailed where pymatgen finds the entry incompatible."""
    structure = AseAtomsAdaptor.get_structure(atoms)
    parameters = mp_run_parameters(structure.composition)
    entry = ComputedStructureEntry(structure, energy_ev, parameters=parameters)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Failed to guess oxidation states" and the like
        processed = _mp2020().process_entry(entry)
    if processed is None:
        raise TaskFailed(f"MP2020 compatibility rejects {structure.composition.reduced_formula}")
    return float(processed.energy - energy_ev)


def energy_correction_ev(kind: str, atoms: Atoms, energy_ev: float) -> float:
    """The correction ``kind`` names (``MP2020``, or '' for none) for ``atoms``, eV per cell."""
    if not kind:
        return 0.0
    if kind != MP2020:
        raise TaskFailed(f"unknown energy correction {kind!r}; known: {', '.join(CORRECTIONS)}")
    return mp2020_correction_ev(atoms, energy_ev)
