"""The formation task through run_benchmark: each elemental reference a result of its
own, computed once per model and reused, recomputed when the model changes."""

import pytest
from ase.calculators.emt import EMT
from django.core.management import CommandError, call_command

from compute.run_context import RunContext
from compute.tasks import run_task
from compute.tasks.formation.references import elemental_reference
from models_app.models import MLIP
from tasks_app.models import Job, JobStatus, Result

pytestmark = pytest.mark.django_db
ELEMENTS = "mp-elemental-references"
ALPD3, ALAG2 = "wbm-1-2478", "wbm-1-1679"  # the only two of the 972 EMT covers


def element_results(label: str) -> list[Result]:
    return list(
        Result.objects.filter(
            task__slug="formation",
            structure__structure_set__name=ELEMENTS,
            structure__label=f"mp-{label}",
        )
    )


def test_elemental_references_are_results_of_their_own_computed_once(
    seeded_full, inline_jobs, capsys
):
    call_command("run_benchmark", "formation", models="EMT", structures=ALPD3)
    assert "1/1" in capsys.readouterr().err  # the references are not jobs of the run's set
    assert [len(element_results(el)) for el in ("Al", "Pd", "Ag")] == [1, 1, 0]
    call_command("run_benchmark", "formation", models="EMT", structures=ALAG2)
    out = capsys.readouterr().out
    assert "FAILED" not in out
    # Al is reused, not relaxed again: one job, one result; Ag is added.
    assert [len(element_results(el)) for el in ("Al", "Pd", "Ag")] == [1, 1, 1]
    assert Job.objects.filter(structure__label="mp-Al", task__slug="formation").count() == 1

    al = element_results("Al")[0]
    assert al.job.status == JobStatus.DONE and al.model.name == "EMT"
    # The stored μ is what relaxing MP's Al with EMT gives, outside any database.
    alone = run_task("formation", elemental_reference("Al"), EMT(), {}, RunContext())
    assert al.output["energy_per_atom_ev"] == pytest.approx(alone["energy_per_atom_ev"], abs=1e-9)
    compound = Result.objects.get(structure__label=ALAG2)
    used = compound.output["elemental_references"]["Al"]["energy_per_atom_ev"]
    assert used == al.output["energy_per_atom_ev"]
    # E_form = E/N − Σ xᵢ μᵢ by hand from the stored numbers; EMT is not MP-corrected.
    mu_ag = element_results("Ag")[0].output["energy_per_atom_ev"]
    expected = compound.output["energy_per_atom_ev"] - (3 * used + 6 * mu_ag) / 9
    assert compound.headline["formation_energy_per_atom"] == pytest.approx(expected, abs=1e-12)
    assert compound.metrics["formation_energy_error"] == pytest.approx(
        expected - (-0.079802519), abs=1e-9
    )  # against WBM's uncorrected PBE value, the file's own number


def test_a_changed_model_relaxes_its_references_again(seeded_full, inline_jobs):
    call_command("run_benchmark", "formation", models="EMT", structures=ALPD3)
    emt = MLIP.objects.get(name="EMT")
    emt.calculator_kwargs = {"asap_cutoff": True}
    emt.save()
    call_command("run_benchmark", "formation", models="EMT", structures=ALPD3)
    assert len(element_results("Al")) == 2  # one per key: the old model's and the new one's


def test_an_element_the_model_lacks_is_not_applicable(seeded_full, inline_jobs, capsys):
    call_command("run_benchmark", "formation", models="EMT", structures="wbm-3-38149")  # Sm, Mg, Sn
    job = Job.objects.get(structure__label="wbm-3-38149")
    assert job.status == JobStatus.NOT_APPLICABLE
    assert not Result.objects.filter(task__slug="formation").exists()


def test_a_missing_elemental_reference_structure_fails_the_job_in_one_line(
    seeded_full, inline_jobs, capsys
):
    from tasks_app.models import Structure

    Structure.objects.filter(structure_set__name=ELEMENTS, label="mp-Pd").update(label="gone")
    with pytest.raises(CommandError, match="1 failed"):
        call_command("run_benchmark", "formation", models="EMT", structures=ALPD3)
    job = Job.objects.get(structure__label=ALPD3)
    assert job.status == JobStatus.FAILED
    assert job.error == (
        "structure 'mp-Pd' of set 'mp-elemental-references' is not stored: run seed_registry"
    )


def test_the_models_family_decides_the_correction(seeded_full, inline_jobs, monkeypatch):
    """The job hands the model's family to the run: EMT marked as trained on MP energies
    gets the MP2020 treatment (zero for the intermetallic AlPd3); without the family the
    job's run would say none."""
    from dataclasses import replace

    from compute.calculators import FAMILIES

    monkeypatch.setitem(FAMILIES, "emt", replace(FAMILIES["emt"], energy_correction="MP2020"))
    call_command("run_benchmark", "formation", models="EMT", structures=ALPD3)
    result = Result.objects.get(structure__label=ALPD3)
    assert result.output["energy_correction"] == "MP2020"
    assert result.output["correction_ev"] == 0.0
