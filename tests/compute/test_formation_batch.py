"""The formation task's batched relaxations give what one crystal at a time gives, on CHGNet.

The reference is CHGNet's own ASE calculator over the same loaded model (no batch
call), relaxing one crystal at a time with ASE's FIRE. CHGNet runs in float32 and a
batch sums in another order: forces agree to ~1e-5 eV/Å (test_batch.py), far below the
protocol's fmax of 0.02 eV/Å, so each relaxation takes the same steps (give or take
the one where the largest force crosses fmax) to the same minimum.
"""

from __future__ import annotations

import pytest
from ase import Atoms
from chgnet.model.dynamics import CHGNetCalculator

from compute.calculators import load_calculator
from compute.model_spec import ModelSpec
from compute.run_context import RunContext
from compute.tasks import TaskOutcome, run_job, run_jobs, task_spec
from compute.tasks.formation.geometry import normalised_rmsd
from compute.tasks.formation.references import wbm_structures

# Small WBM crystals (2 to 4 atoms) whose elements' MP references are small too.
LABELS = ("wbm-1-12782", "wbm-1-17801", "wbm-1-3187", "wbm-5-21980", "wbm-1-21586", "wbm-1-2478")
SPEC = task_spec("formation")


@pytest.fixture(scope="module")
def chgnet(tmp_path_factory):
    spec = ModelSpec("CHGNet", "chgnet", "0.3.0")
    return load_calculator(spec, device="cpu", cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def crystals() -> dict[str, tuple[Atoms, dict]]:
    return {label: (atoms, ref) for label, atoms, ref in wbm_structures() if label in LABELS}


@pytest.fixture(scope="module")
def contexts():
    """Contexts whose elemental references are relaxed once and shared by every crystal,
    batched or not, so that the crystals' own relaxations are all that differ."""
    relaxed: dict = {}

    def companion(structure_set, label, compute):
        if (structure_set, label) not in relaxed:
            relaxed[structure_set, label] = compute()
        return relaxed[structure_set, label]

    return lambda: RunContext(family="chgnet", companions=companion)


def relaxed_atoms(outcome: TaskOutcome) -> Atoms:
    output = outcome.output
    return Atoms(numbers=output["numbers"], positions=output["positions"], cell=output["cell"],
                 pbc=True)  # fmt: skip


def test_batched_formation_equals_one_at_a_time(chgnet, crystals, contexts):
    single = CHGNetCalculator(chgnet.model, use_device="cpu")
    alone = [
        run_job(SPEC, crystals[label][0], single, {}, crystals[label][1], contexts())
        for label in LABELS
    ]
    batched = run_jobs(
        SPEC,
        [crystals[label][0] for label in LABELS],
        chgnet,
        {},
        [crystals[label][1] for label in LABELS],
        [contexts() for _ in LABELS],
    )
    for label, one, together in zip(LABELS, alone, batched, strict=True):
        assert isinstance(together, TaskOutcome), f"{label}: {together}"
        assert together.output["converged"] and one.output["converged"]
        assert abs(together.output["steps"] - one.output["steps"]) <= 1, label
        # Both stop within fmax 0.02 eV/Å of the same minimum: energies to ~fmax²/k.
        assert together.headline["formation_energy_per_atom"] == pytest.approx(
            one.headline["formation_energy_per_atom"], abs=1e-4
        ), label
        assert together.metrics["formation_energy_error"] == pytest.approx(
            one.metrics["formation_energy_error"], abs=1e-4
        )
        assert together.output["rmsd"] == pytest.approx(one.output["rmsd"], abs=1e-3), label
        assert normalised_rmsd(relaxed_atoms(together), relaxed_atoms(one)) < 1e-3, label
    assert max(one.output["steps"] for one in alone) > 20  # some relaxations go a long way


def test_a_crystal_the_model_cannot_take_fails_alone_inside_the_batch(chgnet, crystals, contexts):
    """Americium lies outside CHGNet's elements: its crystal fails with its reason, the
    crystals before and after it in the batch finish as they do alone."""
    cr_rh, fe_ni = crystals["wbm-1-12782"][0], crystals["wbm-1-17801"][0]
    am_ni = fe_ni.copy()
    am_ni.symbols[0] = "Am"
    outcomes = run_jobs(SPEC, [cr_rh, am_ni, fe_ni], chgnet, {}, [None] * 3, [contexts()] * 3)
    assert [type(outcome).__name__ for outcome in outcomes] == [
        "TaskOutcome",
        "TaskFailed",
        "TaskOutcome",
    ]
    assert str(outcomes[1]).endswith(" at step 0")  # the model's own error, then where
    for atoms, outcome in ((cr_rh, outcomes[0]), (fe_ni, outcomes[2])):
        one = run_job(SPEC, atoms, chgnet, {}, None, contexts())
        assert outcome.headline["formation_energy_per_atom"] == pytest.approx(
            one.headline["formation_energy_per_atom"], abs=1e-4
        )
