"""plan_run: the one service that turns a request for a run into a run and its jobs; and
run_job, which hands a job's result over with its headline already split."""

import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.eos import EquationOfState
from ase.units import GPa

from arena_site.errors import ArenaError
from compute.errors import TaskFailed
from compute.tasks import TASKS, run_job
from tasks_app.execution.plan import plan_run
from tasks_app.models import BenchmarkRun, Job


@pytest.mark.django_db
def test_a_plan_names_its_jobs_variant_and_the_jobs_it_follows(seeded, inline_jobs):
    cells = ["Cu-fcc-108", "Al-fcc-108"]
    planned = plan_run(task="nve", models=["EMT"], structures=cells, variant="short")
    # Two structures of nve's set for one model; the short variant's parameters, as the
    # spec declares them (400 steps, a sample every 10).
    assert [job.structure.label for job in planned.jobs] == cells
    assert planned.structure_set == TASKS["nve"].default_structure_set
    assert (planned.variant, planned.reused) == ("short", 0)
    assert {(j.params["steps"], j.params["sample_every"]) for j in planned.jobs} == {(400, 10)}
    # The same keys again, still unfinished: followed, not planned twice.
    again = plan_run(task="nve", models=["EMT"], structures=cells, variant="short")
    assert (again.jobs, again.reused) == ([], 2)
    assert Job.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"task": "eos", "limit": 0}, "--limit must be at least 1, not 0"),
        ({"task": "kappa"}, "unknown task 'kappa'"),
        ({"task": "eos", "models": ["GAP-20"]}, "unknown model(s) GAP-20"),
        ({"task": "eos", "set_name": "wbm"}, "unknown structure set 'wbm'"),
    ],
)
def test_bad_requests_are_one_line_and_store_nothing(seeded, request_, message):
    with pytest.raises(ArenaError, match=r"^[^\n]+$") as raised:
        plan_run(**request_)
    assert message in str(raised.value)
    assert (BenchmarkRun.objects.count(), Job.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_an_unknown_variant_is_refused_before_anything_is_stored(seeded):
    with pytest.raises(TaskFailed, match="task 'nve' has no variant 'long'"):
        plan_run(task="nve", models=["EMT"], variant="long")
    assert BenchmarkRun.objects.count() == 0


def test_run_job_splits_the_headline_from_the_rest_and_evaluates():
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    spec = TASKS["eos"]
    reference = {"v0_a3_per_atom": 11.8, "b0_gpa": 100.0, "b0_prime": 5.0}
    outcome = run_job(spec, atoms, EMT(), {}, reference)
    assert set(outcome.headline) == {q.key for q in spec.quantities}
    assert not set(outcome.headline) & set(outcome.output)
    # The headline's B0 is the fit of the curve that the rest of the output holds: ASE's
    # own Birch-Murnaghan fit of those points agrees to the fit's round-off.
    volumes, energies = outcome.output["volumes_a3"], outcome.output["energies_ev"]
    _, _, b0 = EquationOfState(volumes, energies, eos="birchmurnaghan").fit()
    assert outcome.headline["b0_gpa"] == pytest.approx(b0 / GPa, rel=1e-6)
    # Metrics against the reference: B0's relative error, by hand.
    assert outcome.metrics["b0_rel_error"] == pytest.approx(outcome.headline["b0_gpa"] / 100 - 1)
