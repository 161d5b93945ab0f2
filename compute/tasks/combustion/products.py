"""What the combustion run made: molecules by a bond graph, and the water among them.

Two atoms are bonded when closer than the cutoff of their pair of elements (periodic
images included); a molecule is a connected component of the bonds, named by its Hill
formula (``H2O``, ``HO``, ``H2``, ``H2O2``, ``O2``, ``H`` for a lone atom).

The cutoffs sit between a pair's bond length and its next-nearest distance:
- O–H 1.25 Å: the bond is 0.96 Å in water, the O···H hydrogen bond 1.8–2.0 Å;
- H–H 1.00 Å: H₂ is 0.74 Å, the two H of one water 1.52 Å apart;
- O–O 1.60 Å: O₂ is 1.21 Å and H₂O₂'s O–O 1.47 Å, hydrogen-bonded waters 2.8 Å.

MLIP Arena counts instead every O with exactly two H within ASE's natural cutoffs plus
its 0.3 Å skin (O–H < 1.57 Å), whatever else those atoms touch; a water that touches a
third H, or an OH bonded to an O, is then counted where a bond graph sees H₃O or HO₂.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from ase import Atoms
from ase.formula import Formula
from ase.neighborlist import neighbor_list
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

BOND_CUTOFFS_A = {("H", "H"): 1.00, ("H", "O"): 1.25, ("O", "O"): 1.60}
WATER = "H2O"


def molecules(atoms: Atoms, cutoffs: dict[tuple[str, str], float] = BOND_CUTOFFS_A) -> Counter:
    """How many molecules of each Hill formula ``atoms`` holds."""
    symbols = atoms.get_chemical_symbols()
    first, second, distance = neighbor_list("ijd", atoms, max(cutoffs.values()))
    pair_cutoff = np.array(
        [
            cutoffs.get(tuple(sorted((symbols[i], symbols[j]))), 0.0)
            for i, j in zip(first, second, strict=True)
        ]
    )
    bonded = distance < pair_cutoff
    n = len(atoms)
    graph = coo_matrix((np.ones(bonded.sum()), (first[bonded], second[bonded])), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    members: list[list[str]] = [[] for _ in range(count)]
    for symbol, label in zip(symbols, labels, strict=True):
        members[label].append(symbol)
    return Counter(Formula.from_list(group).format("hill") for group in members)


def water_count(atoms: Atoms) -> int:
    return molecules(atoms)[WATER]


def most_water(atoms: Atoms) -> int:
    """The water the atoms could make: 128 for H256O128."""
    symbols = atoms.get_chemical_symbols()
    return min(symbols.count("H") // 2, symbols.count("O"))
