"""verify: stored results re-run in-process against the tolerances their task declares,
and the provenance every job records (compute.provenance, through the job function)."""

import platform
import subprocess

import ase
import numpy
import pytest
import scipy
from ase.build import bulk
from django.core.management import call_command
from django.core.management.base import CommandError

from compute.provenance import ARENA_ROOT
from compute.tasks.reproduction import DETERMINISTIC, TIMING, TRAJECTORY
from tasks_app.models import Job, Result, Structure
from tasks_app.structure_sets import store_structure_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def eos_results(seeded, inline_jobs):
    """EOS of EMT on Cu and Al, run as any benchmark runs (the job function)."""
    delta = {s.label: s for s in Structure.objects.filter(label__in=["Cu", "Al"])}
    store_structure_set(
        name="metals",
        description="",
        structures=[
            (label, bulk(label, "fcc", a=a), delta[label].reference)
            for label, a in [("Cu", 3.6), ("Al", 4.05)]
        ],
    )
    call_command("run_benchmark", "eos", models="EMT", set_name="metals")
    return {r.structure.label: r for r in Result.objects.select_related("structure", "job")}


def verify(capsys, *args, **options) -> tuple[list[str], str]:
    """verify's output lines, and its error ('' when it exits 0)."""
    capsys.readouterr()
    try:
        call_command("verify", *args, **options)
        error = ""
    except CommandError as exc:
        error = str(exc)
    return capsys.readouterr().out.splitlines(), error


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ARENA_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_every_job_records_what_produced_it(eos_results):
    ran_with = eos_results["Cu"].job.ran_with
    assert ran_with["packages"]["ase"] == ase.__version__
    assert ran_with["packages"]["numpy"] == numpy.__version__
    assert ran_with["packages"]["scipy"] == scipy.__version__
    assert ran_with["python"] == platform.python_version()
    assert ran_with["device"] == "cpu" and ran_with["torch_threads"] >= 1
    with open("/proc/cpuinfo") as cpuinfo:
        names = {line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")}
    assert ran_with["cpu"] in names
    dirty = git("status", "--porcelain", "--untracked-files=no")
    assert ran_with["arena"] == git("rev-parse", "HEAD") + ("+dirty" if dirty else "")
    assert ran_with["environment"] == "main"
    assert len(ran_with["environment_lock"]) == 16
    assert eos_results["Al"].job.ran_with["environment_lock"] == ran_with["environment_lock"]


def test_verify_agrees_on_honest_results(eos_results, capsys):
    lines, error = verify(capsys, "eos")
    assert error == ""
    assert lines == [
        "EMT Cu: agrees",
        "EMT Al: agrees",
        "eos: 2 of 2 results reproduced, 0 differ or could not be re-run",
    ]


def test_a_tampered_result_differs_by_name_and_number_and_is_not_overwritten(eos_results, capsys):
    cu = eos_results["Cu"]
    b0 = cu.headline["b0_gpa"]
    tampered = round(b0 * 1.01, 6)
    Result.objects.filter(pk=cu.pk).update(headline={**cu.headline, "b0_gpa": tampered})

    lines, error = verify(capsys, "eos")
    assert error == "1 of 2 results not reproduced"
    assert lines[0].startswith(f"EMT Cu: differs: headline.b0_gpa: {tampered} → ")
    assert lines[1] == "EMT Al: agrees"
    shown_now = float(lines[0].split("→ ")[1].split(" ")[0])
    assert shown_now == pytest.approx(b0, rel=1e-6)
    assert "relative" in lines[0] and "headline.v0" not in lines[0]
    cu.refresh_from_db()
    assert cu.headline["b0_gpa"] == tampered  # verify writes nothing


def test_a_tampered_metric_differs_too(eos_results, capsys):
    al = eos_results["Al"]
    Result.objects.filter(pk=al.pk).update(metrics={**al.metrics, "delta_mev_per_atom": 0.0})
    lines, error = verify(capsys, "eos", structures="Al")
    assert error == "1 of 1 results not reproduced"
    assert lines[0].startswith("EMT Al: differs: metrics.delta_mev_per_atom: 0.0 → ")


def test_a_provenance_difference_is_reported_without_failing(eos_results, capsys):
    job = eos_results["Cu"].job
    older = {**job.ran_with, "packages": {**job.ran_with["packages"], "ase": "3.0.0"}}
    Job.objects.filter(pk=job.pk).update(ran_with=older)
    lines, error = verify(capsys, "eos", structures="Cu")
    assert error == ""
    assert lines[0] == (
        f"EMT Cu: agrees (provenance differs: packages.ase: 3.0.0 → {ase.__version__})"
    )


def test_a_seeded_sample_picks_the_same_results(eos_results, capsys):
    first, _ = verify(capsys, "eos", sample=1, seed=3)
    again, _ = verify(capsys, "eos", sample=1, seed=3)
    assert first == again and len(first) == 2
    assert first[-1] == "eos: 1 of 1 results reproduced, 0 differ or could not be re-run"


def test_bad_selections_are_one_line_errors(eos_results, capsys):
    assert verify(capsys, "eos", models="nobody")[1] == (
        "no stored results of task 'eos' match the selection"
    )
    assert verify(capsys, "eos", sample=0)[1] == "--sample must be at least 1, not 0"
    assert "unknown task" in verify(capsys, "nosuchtask")[1].lower()


def test_tolerances_relative_absolute_and_uncompared():
    assert not DETERMINISTIC.differs(100.0, 100.0 + 5e-5)  # 5e-7 relative
    assert DETERMINISTIC.differs(100.0, 100.0 + 2e-4)  # 2e-6 relative
    assert not DETERMINISTIC.differs(0.0, 5e-10) and DETERMINISTIC.differs(0.0, 2e-9)
    assert not TRAJECTORY.differs(1.0, 1.04) and TRAJECTORY.differs(1.0, 1.06)
    assert DETERMINISTIC.differs(1.0, None) and DETERMINISTIC.differs(True, False)
    assert not TIMING.differs(1.0, 1000.0)
