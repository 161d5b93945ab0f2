"""Tasks on the batch call give what they give one structure at a time, on CHGNet.

The reference is CHGNet's own ASE calculator over the same loaded model, one structure
per call. CHGNet runs in float32 and a batch sums in another order: forces agree to
~1e-5 eV/Å (see test_batch.py), so force constants, forces over a 0.01 Å displacement,
agree to ~1e-3 eV/Å².
"""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from chgnet.model.dynamics import CHGNetCalculator

from compute.calculators import load_calculator
from compute.errors import TaskFailed
from compute.model_spec import ModelSpec
from compute.tasks.phonons.harmonic import phonopy_for, produce_force_constants
from compute.tasks.vacancy.neb import climbing_image_neb


@pytest.fixture(scope="module")
def chgnet(tmp_path_factory):
    spec = ModelSpec("CHGNet", "chgnet", "0.3.0")
    return load_calculator(spec, device="cpu", cache_dir=tmp_path_factory.mktemp("cache"))


def test_phonon_displacements_batched_equal_one_at_a_time(chgnet):
    """Rock-salt NaCl on a 2×2×2 supercell (16 atoms): phonopy displaces Na and Cl, two
    supercells, evaluated in one batch or one by one."""
    atoms = bulk("NaCl", "rocksalt", a=5.6)
    batched, alone = phonopy_for(atoms, [2, 2, 2]), phonopy_for(atoms, [2, 2, 2])
    progress = []
    count = produce_force_constants(
        batched, chgnet, 0.01, on_force=lambda done, total: progress.append((done, total))
    )
    reference = CHGNetCalculator(chgnet.model, use_device="cpu")
    assert produce_force_constants(alone, reference, 0.01) == count > 1
    assert progress[-1] == (count, count)
    assert batched.force_constants == pytest.approx(alone.force_constants, abs=1e-3)
    assert np.abs(alone.force_constants).max() > 0.5  # not trivially zero


def test_a_failing_displacement_fails_the_phonons_with_its_place(chgnet):
    """Americium lies outside CHGNet's elements: the task fails naming the displacement."""
    phonon = phonopy_for(bulk("Am", "fcc", a=4.9), [2, 2, 2])
    with pytest.raises(TaskFailed, match=r" at displacement 1 of 1$"):
        produce_force_constants(phonon, chgnet, 0.01)


def hop_ends(calculator) -> tuple:
    """A vacancy hop in a 2×2×1 cubic copper cell (15 atoms): atom 0 moves into site 0."""
    pristine = bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 2, 1)
    initial, final = pristine.copy(), pristine.copy()
    del initial[0]
    del final[1]
    for end in (initial, final):
        end.calc = calculator
    return initial, final


@pytest.mark.slow
def test_neb_images_batched_equal_one_at_a_time(chgnet):
    """Two moving images, BFGS for two steps: one batch call per step or one call per
    image, the same path energies and positions to float32's rounding carried through
    two BFGS steps (1e-4 eV, 1e-4 Å)."""
    reference = CHGNetCalculator(chgnet.model, use_device="cpu")
    batched = climbing_image_neb(*hop_ends(chgnet), chgnet, n_images=4, steps=2)
    alone = climbing_image_neb(*hop_ends(reference), reference, n_images=4, steps=2)
    assert batched.steps == alone.steps == 2
    assert batched.energies_ev == pytest.approx(alone.energies_ev, abs=1e-4)
    for ours, theirs in zip(batched.images, alone.images, strict=True):
        assert ours.positions == pytest.approx(theirs.positions, abs=1e-4)
    assert max(batched.energies_ev) - batched.energies_ev[0] > 0.1  # a barrier, not flat


def test_a_failing_image_fails_the_neb_with_its_place(chgnet):
    """Americium lies outside CHGNet's elements: the NEB fails at its first step, naming
    the image (the end points carry fixed numbers and are not evaluated)."""
    initial, final = hop_ends(None)
    for end in (initial, final):
        end.symbols = "Am" * len(end)
        end.calc = SinglePointCalculator(end, energy=0.0, forces=np.zeros((len(end), 3)))
    with pytest.raises(TaskFailed, match=r"^NEB: the model failed at step 0: .* at image 1$"):
        climbing_image_neb(initial, final, chgnet, n_images=4, steps=2)
