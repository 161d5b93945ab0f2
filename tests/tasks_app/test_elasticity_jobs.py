"""The elasticity task through run_benchmark: done, n/a, failed with the reason, a
structure without a reference, and a bad reference file at seed time."""

import json

import pytest
from ase import Atoms
from ase.build import bulk
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from compute.tasks.elasticity import references
from tasks_app.models import Job, JobStatus, Result, StructureSet
from tasks_app.services import store_structure_set

pytestmark = pytest.mark.django_db


def figure_json(html: str, figure_id: str) -> dict:
    return json.loads(
        html.split(f'id="{figure_id}" type="application/json">')[1].split("</script>")[0]
    )


def test_elasticity_jobs_record_results_failures_and_not_applicable(
    seeded_full, inline_jobs, client
):
    assert StructureSet.objects.get(name="mp-elasticity").structures.count() == 3953
    overlap = Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 0]], cell=[3, 3, 3], pbc=True)
    pbe_like = {"k_vrh_gpa": 140.0, "g_vrh_gpa": 50.0, "crystal_system": "cubic"}
    store_structure_set(
        name="emt-elastic",
        description="",
        structures=[
            ("Cu", bulk("Cu", "fcc", a=3.6), pbe_like),
            ("Al", bulk("Al", "fcc", a=4.05), {}),  # imported: no reference
            ("Fe", bulk("Fe", "bcc", a=2.87), pbe_like),  # EMT has no iron
            ("overlap", overlap, pbe_like),
        ],
    )
    with pytest.raises(CommandError, match="1 failed"):
        call_command("run_benchmark", "elasticity", models="EMT", set_name="emt-elastic")
    assert Job.objects.get(structure__label="Fe").status == JobStatus.NOT_APPLICABLE
    failed = Job.objects.get(structure__label="overlap")
    assert failed.status == JobStatus.FAILED
    assert failed.error == "non-finite energy or forces at step 0"
    copper = Result.objects.get(structure__label="Cu")
    assert set(copper.headline) == {"k_vrh_gpa", "g_vrh_gpa", "born_stable", "min_eigenvalue_gpa"}
    assert copper.metrics["k_error_gpa"] == pytest.approx(copper.headline["k_vrh_gpa"] - 140.0)
    assert copper.headline["born_stable"] == 1 and copper.metrics["unstable_share"] == 0
    aluminium = Result.objects.get(structure__label="Al")
    assert aluminium.metrics == {} and len(aluminium.output["c_ij_gpa"]) == 6
    assert aluminium.headline["k_vrh_gpa"] > 0

    # The structure page: EMT's tensor entries in their columns, PBE's K and G marked.
    html = client.get(reverse("leaderboard:structure", args=[copper.structure_id])).content
    figure = figure_json(html.decode(), "elasticity-tensor")
    emt, pbe = figure["data"]
    c = copper.output["c_ij_gpa"]
    assert dict(zip(emt["x"], emt["y"], strict=True)) == pytest.approx(
        {"C11": c[0][0], "C22": c[1][1], "C33": c[2][2], "C12": c[0][1], "C13": c[0][2],
         "C23": c[1][2], "C44": c[3][3], "C55": c[4][4], "C66": c[5][5],
         "K_VRH": copper.headline["k_vrh_gpa"], "G_VRH": copper.headline["g_vrh_gpa"]},
        rel=1e-5,
    )  # fmt: skip
    assert (pbe["name"], pbe["x"], pbe["y"]) == ("PBE", ["K_VRH", "G_VRH"], [140.0, 50.0])

    # The consistency check: K_VRH of the cubic crystal against EMT's own EOS B₀ on it.
    call_command("run_benchmark", "eos", models="EMT", set_name="emt-elastic", structures="Cu")
    eos = Result.objects.get(task__slug="eos", structure__label="Cu")
    html = client.get(reverse("leaderboard:task", args=["elasticity"])).content.decode()
    (points, *_) = figure_json(html, "elasticity-eos")["data"]
    assert (points["x"], points["y"]) == (
        [pytest.approx(eos.headline["b0_gpa"], rel=1e-5)],
        [pytest.approx(copper.headline["k_vrh_gpa"], rel=1e-5)],
    )
    # EMT copper: the EOS over ±20 % of V puts B₀ 1.2 % below K_VRH (tests/compute).
    assert points["x"][0] == pytest.approx(points["y"][0], rel=0.02)


def test_a_missing_reference_file_is_one_line_at_seed_time(db, tmp_path, monkeypatch):
    monkeypatch.setattr(references, "REFERENCE_FILE", tmp_path / "gone.json.gz")
    with pytest.raises(CommandError) as error:
        call_command("seed_registry")
    assert str(error.value) == f"{tmp_path}/gone.json.gz: no such reference file"
