"""The phonons task end to end: a real EMT job, its board (parity, bands, DOS) and the
force constants kept in the file store, linked from the job page."""

from __future__ import annotations

import json
import lzma

import pytest
import yaml
from ase.build import bulk
from django.core.management import call_command
from django.urls import reverse

from tasks_app.models import Job, JobStatus
from tasks_app.services import store_structure_set

REFERENCE_CV = 24.0  # J/K/mol: a stand-in PBE value, what the parity point is drawn against


def figure_of(html: str, figure_id: str) -> dict:
    return json.loads(html.split(f'id="{figure_id}" type="application/json">')[1].split("</")[0])


@pytest.mark.django_db
def test_an_emt_phonon_job_draws_its_bands_and_keeps_its_force_constants(
    seeded, inline_jobs, settings, tmp_path, client
):
    settings.ARENA_FILE_STORE = tmp_path
    reference = {"heat_capacity_300k": REFERENCE_CV}
    store_structure_set(
        name="phonon-toy", description="", structures=[("Cu", bulk("Cu", a=3.6), reference)]
    )
    call_command("run_benchmark", "phonons", "--models", "EMT", "--set", "phonon-toy")
    job = Job.objects.get(task__slug="phonons", structure__label="Cu")
    assert job.status == JobStatus.DONE
    cv = job.result.headline["heat_capacity_300k"]
    assert 0.9 * 3 * 8.314 < cv < 3 * 8.314  # copper at 300 K: nearly classical
    assert job.result.metrics["heat_capacity_error"] == pytest.approx(cv - REFERENCE_CV)

    html = client.get(
        reverse("leaderboard:task", args=["phonons"]), {"structure": job.structure_id}
    ).content.decode()
    (point,) = [t for t in figure_of(html, "phonons-parity")["data"] if t["name"] == "EMT"]
    assert point["x"] == [REFERENCE_CV] and point["y"] == [pytest.approx(cv, abs=0.01)]
    bands = [t for t in figure_of(html, "phonons-bands")["data"] if t["name"] == "EMT"]
    assert len(bands) == 3  # one line per branch of the one-atom cell
    assert len(bands[0]["x"]) == len(job.result.output["q_distance"])
    dos = figure_of(html, "phonons-dos")["data"]
    assert [t["name"] for t in dos] == ["EMT"]

    page = client.get(f"/jobs/{job.pk}/").content.decode()
    name = job.result.output["force_constants_file"]
    url = reverse("leaderboard:file", args=[f"jobs/{job.key}/{name}"])
    assert f'<dt>Force constants</dt><dd><a href="{url}">{name}</a></dd>' in page
    served = b"".join(client.get(url).streaming_content)
    params = yaml.safe_load(lzma.decompress(served))
    assert len(params["force_constants"]["elements"]) == 64  # 1 × 64 supercell atoms
