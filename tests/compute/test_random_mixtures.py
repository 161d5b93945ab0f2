"""The random-mixtures set: its documented rule, its minimum distance and its density."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys

import numpy as np
import pytest
from ase.data import chemical_symbols
from ase.neighborlist import neighbor_list
from pymatgen.core import Element

from compute.calculators import check_supported, load_calculator
from compute.errors import NotApplicable
from compute.model_spec import ModelSpec
from compute.structure_sets import random_mixtures as rule
from compute.structure_sets.random_mixtures import RANDOM_MIXTURES, random_mixture
from compute.structures import atoms_to_dict, structure_hash
from compute.tasks import task_spec

MPTRJ = {chemical_symbols[z] for z in [*range(1, 84), *range(89, 95)]}


@pytest.fixture(scope="module")
def mixtures():
    return RANDOM_MIXTURES.build()


def rule_by_hand(index: int) -> tuple[list[str], list[tuple[float, float, float]], float]:
    """The module docstring's rule, written again in plain Python from pymatgen's volumes."""
    draw = random.Random(2025 + index).random
    elements = sorted(MPTRJ, key=lambda s: chemical_symbols.index(s))
    k = 2 + int(3 * draw())
    chosen: list[str] = []
    while len(chosen) < k:
        symbol = elements[int(89 * draw())]
        if symbol not in chosen:
            chosen.append(symbol)
    symbols = chosen + [chosen[int(k * draw())] for _ in range(64 - k)]
    volumes = [float(Element(s).molar_volume) / 6.02214076e23 * 1e24 for s in symbols]
    length = sum(volumes) ** (1 / 3)
    radii = [(3 * v / (4 * math.pi)) ** (1 / 3) for v in volumes]
    points: list[tuple[float, float, float]] = []
    for i in range(64):
        while True:
            point = (length * draw(), length * draw(), length * draw())
            if all(
                math.dist([0, 0, 0], [(p - q) - length * round((p - q) / length)
                                      for p, q in zip(point, other, strict=True)])
                >= 0.6 * (radii[i] + radii[j])
                for j, other in enumerate(points)
            ):  # fmt: skip
                points.append(point)
                break
    return symbols, points, length


@pytest.mark.parametrize("index", [0, 7])
def test_the_same_seed_gives_the_structure_the_documented_rule_gives(index):
    symbols, points, length = rule_by_hand(index)
    atoms = random_mixture(index)
    assert atoms.get_chemical_symbols() == symbols
    # the same IEEE operations in the same order: equal to the last bit
    np.testing.assert_array_equal(atoms.positions, np.array(points))
    np.testing.assert_array_equal(atoms.cell.array, np.eye(3) * length)


def test_no_two_atoms_are_closer_than_the_minimum_periodic_images_included(mixtures):
    for label, atoms, _ in mixtures:
        radii = np.array([rule.wigner_seitz_radius_a(s) for s in atoms.get_chemical_symbols()])
        # every pair within twice the largest minimum, across the cell's faces too
        i, j, d = neighbor_list("ijd", atoms, 2 * 1.2 * radii.max(), self_interaction=False)
        nearest = 0.6 * (radii[i] + radii[j])
        assert np.all(d >= nearest - 1e-9), label
        assert d.size > 0, label  # the check above saw pairs at all


def test_density_is_the_ideal_mixture_of_the_elemental_solids(mixtures):
    for label, atoms, reference in mixtures:
        molar_cm3 = sum(float(Element(s).molar_volume) for s in atoms.get_chemical_symbols())
        # cm³/mol over N_A to Å³; the table is pymatgen's, copied to 2 decimals as it gives them
        assert atoms.get_volume() == pytest.approx(molar_cm3 / 0.602214076, rel=1e-12), label
        assert atoms.cell.orthorhombic and np.ptp(atoms.cell.lengths()) < 1e-12
        assert atoms.pbc.all() and reference == {}


def test_compositions_are_two_to_four_of_mptrjs_elements_in_64_atoms(mixtures):
    assert len(mixtures) == 12
    assert len({label for label, _, _ in mixtures}) == 12
    counts = []
    for label, atoms, _ in mixtures:
        elements = set(atoms.get_chemical_symbols())
        assert len(atoms) == 64 and 2 <= len(elements) <= 4 and elements <= MPTRJ
        assert label.endswith(atoms.get_chemical_formula())
        counts.append(len(elements))
    assert set(counts) == {2, 3, 4}  # the seed draws every kind of mixture


def test_heating_stores_it_beside_md_cells():
    names = [s.name for s in task_spec("heating").structure_sets]
    assert names == ["md-cells", "random-mixtures"]


def test_a_model_without_an_element_of_a_mixture_is_not_applicable(mixtures, tmp_path):
    spec = ModelSpec("EMT", "emt")
    emt = load_calculator(spec, device="cpu", cache_dir=tmp_path)
    label, atoms, _ = mixtures[1]
    emt_elements = {"H", "C", "N", "O", "Al", "Ni", "Cu", "Pd", "Ag", "Pt", "Au"}
    outside = sorted(set(atoms.get_chemical_symbols()) - emt_elements, key=chemical_symbols.index)
    assert outside, label
    with pytest.raises(NotApplicable, match="does not cover " + ", ".join(outside)):
        check_supported(spec, emt, atoms)


def test_another_process_imports_the_set_alone_and_builds_the_same_structures(mixtures):
    """A fresh interpreter, with other string hashing, imports the set's module first (no
    import cycle through the task registry) and stores the same content hashes."""
    script = (
        "from compute.structure_sets.random_mixtures import random_mixtures\n"
        "from compute.structures import atoms_to_dict, structure_hash\n"
        "print(' '.join(structure_hash(atoms_to_dict(a)) for _, a, _ in random_mixtures()))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.split() == [structure_hash(atoms_to_dict(a)) for _, a, _ in mixtures]
