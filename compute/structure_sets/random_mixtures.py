"""Random mixtures: MLIP Arena's probe of unphysical configurations, by a rule of our own.

MLIP Arena runs its stability tests on ``random-mixture.db`` (Hugging Face
``atomind/mlip-arena``, ``stability/``); the script that made it is not public, so
this set follows its idea (random elements at random positions) by this rule:

1. Structure ``i`` (0 … ``COUNT`` − 1) draws every number from
   ``random.Random(SEED + i).random()``, which Python keeps the same for a seed on
   every machine and version (numpy's Generator promises no such thing).
2. ``k = 2 + ⌊3u⌋`` elements (2 to 4), each ``ELEMENTS[⌊89u⌋]``, drawn again when
   already taken. ``ELEMENTS`` are MPtrj's 89 (H–Bi, Ac–Pu), which the arena's
   universal models cover.
3. ``ATOMS`` atoms: the first ``k`` one of each element in drawn order, every other
   ``element[⌊ku⌋]``.
4. A cubic box of volume Σ V_i, V_i the volume per atom of atom i's elemental solid
   (``MOLAR_VOLUME_CM3`` / N_A): the density of the ideal mixture of the elements.
5. Atoms in order at (Lu, Lu, Lu), the three draws x, y, z, a draw kept only when its
   minimum-image distance to every atom placed is at least
   ``MIN_DISTANCE_FACTOR`` × (R_i + R_j), R = (3V/4π)^⅓ the Wigner–Seitz radius. Spheres
   of those radii fill 0.6³ ≈ 22 % of every box, well below random sequential
   packing's 38 % jamming, so a handful of draws place each atom.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import numpy as np
from ase import Atoms

from compute.structures import LabelledStructure, StructureSetSpec

SEED = 2025
COUNT = 12
ATOMS = 64
MIN_DISTANCE_FACTOR = 0.6
MAX_DRAWS_PER_ATOM = 10_000
AVOGADRO = 6.02214076e23

# Molar volumes (cm³/mol) of the elemental solids, from pymatgen 2026.10.24's
# periodic_table.json ("Molar volume"; CRC Handbook values), copied so that the set
# cannot change with pymatgen. Their keys, in atomic-number order, are ELEMENTS.
MOLAR_VOLUME_CM3 = {
    "H": 11.42, "He": 21.0, "Li": 13.02, "Be": 4.85, "B": 4.39, "C": 5.29, "N": 13.54,
    "O": 17.36, "F": 11.2, "Ne": 13.23, "Na": 23.78, "Mg": 14.0, "Al": 10.0, "Si": 12.06,
    "P": 17.02, "S": 15.53, "Cl": 17.39, "Ar": 22.56, "K": 45.94, "Ca": 26.2, "Sc": 15.0,
    "Ti": 10.64, "V": 8.32, "Cr": 7.23, "Mn": 7.35, "Fe": 7.09, "Co": 6.67, "Ni": 6.59,
    "Cu": 7.11, "Zn": 9.16, "Ga": 11.8, "Ge": 13.63, "As": 12.95, "Se": 16.42, "Br": 19.78,
    "Kr": 27.99, "Rb": 55.76, "Sr": 33.94, "Y": 19.88, "Zr": 14.02, "Nb": 10.83, "Mo": 9.38,
    "Tc": 8.63, "Ru": 8.17, "Rh": 8.28, "Pd": 8.56, "Ag": 10.27, "Cd": 13.0, "In": 15.76,
    "Sn": 16.29, "Sb": 18.19, "Te": 20.46, "I": 25.72, "Xe": 35.92, "Cs": 70.94, "Ba": 38.16,
    "La": 22.39, "Ce": 20.69, "Pr": 20.8, "Nd": 20.59, "Pm": 20.23, "Sm": 19.98, "Eu": 28.97,
    "Gd": 19.9, "Tb": 19.3, "Dy": 19.01, "Ho": 18.74, "Er": 18.46, "Tm": 19.1, "Yb": 24.84,
    "Lu": 17.78, "Hf": 13.44, "Ta": 10.85, "W": 9.47, "Re": 8.86, "Os": 8.42, "Ir": 8.52,
    "Pt": 9.09, "Au": 10.21, "Hg": 14.09, "Tl": 17.22, "Pb": 18.26, "Bi": 21.31, "Ac": 22.55,
    "Th": 19.8, "Pa": 15.18, "U": 12.49, "Np": 11.59, "Pu": 12.29,
}  # fmt: skip
ELEMENTS = tuple(MOLAR_VOLUME_CM3)


def atomic_volume_a3(symbol: str) -> float:
    """Volume per atom (Å³) of ``symbol``'s elemental solid."""
    return MOLAR_VOLUME_CM3[symbol] * 1e24 / AVOGADRO


def wigner_seitz_radius_a(symbol: str) -> float:
    return (3 * atomic_volume_a3(symbol) / (4 * math.pi)) ** (1 / 3)


def random_mixture(index: int) -> Atoms:
    """Structure ``index`` of the set, by the rule of the module's docstring."""
    draw = random.Random(SEED + index).random
    k = 2 + math.floor(3 * draw())
    elements: list[str] = []
    while len(elements) < k:
        symbol = ELEMENTS[math.floor(len(ELEMENTS) * draw())]
        if symbol not in elements:
            elements.append(symbol)
    symbols = elements + [elements[math.floor(k * draw())] for _ in range(ATOMS - k)]
    length = sum(atomic_volume_a3(s) for s in symbols) ** (1 / 3)
    radii = np.array([wigner_seitz_radius_a(s) for s in symbols])
    positions = np.empty((ATOMS, 3))
    for i in range(ATOMS):
        positions[i] = _place(i, positions[:i], radii, length, draw)
    return Atoms(symbols=symbols, positions=positions, cell=[length] * 3, pbc=True)


def _place(
    i: int, placed: np.ndarray, radii: np.ndarray, length: float, draw: Callable[[], float]
) -> np.ndarray:
    """The first draw for atom ``i`` far enough from every atom placed (minimum image)."""
    nearest = MIN_DISTANCE_FACTOR * (radii[i] + radii[: len(placed)])
    for _ in range(MAX_DRAWS_PER_ATOM):
        point = np.array([length * draw(), length * draw(), length * draw()])
        delta = placed - point
        delta -= length * np.round(delta / length)
        if np.all(np.linalg.norm(delta, axis=1) >= nearest):
            return point
    raise RuntimeError(f"atom {i} found no place in {MAX_DRAWS_PER_ATOM} draws")


def random_mixtures() -> list[LabelledStructure]:
    structures = []
    for index in range(COUNT):
        atoms = random_mixture(index)
        structures.append((f"mix{index:02d}-{atoms.get_chemical_formula()}", atoms, {}))
    return structures


RANDOM_MIXTURES = StructureSetSpec(
    name="random-mixtures",
    description=(
        f"{COUNT} random mixtures of 2 to 4 of MPtrj's elements, {ATOMS} atoms each, at random "
        "positions in a cubic box at the ideal-mixture density of the elemental solids, "
        f"no two atoms closer than {MIN_DISTANCE_FACTOR} × the sum of their Wigner–Seitz radii "
        f"(seed {SEED}; rule in compute/structure_sets/random_mixtures.py)"
    ),
    build=random_mixtures,
)
