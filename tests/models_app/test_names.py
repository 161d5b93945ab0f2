"""Any model name works: pages address models by slug; bad names and params are refused."""

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.management import call_command

from models_app.models import MLIP
from models_app.services import seed_models
from publishing.export import export_dataset
from tasks_app.models import BenchmarkRun, Job, Structure, Task

pytestmark = pytest.mark.django_db
NAME = "MACE/MP-0 medium? #1 %20 ü"  # a slash, a query, a fragment, an escape, an accent


def seed(tmp_path, *names: str) -> None:
    path = tmp_path / "registry.yaml"
    entries = [{"name": n, "family": "emt", "cpu_tasks": ["ev"]} for n in names]
    path.write_text(yaml.safe_dump({"models": entries}, allow_unicode=True))
    report = seed_models(path=path)
    assert not report.errors, report.errors


def test_a_name_that_is_not_url_safe_works_on_every_page_and_in_the_export(
    seeded, inline_jobs, client, tmp_path
):
    seed(tmp_path, NAME)
    model = MLIP.objects.get(name=NAME)
    assert model.slug == "macemp-0-medium-1-20-u"
    call_command("run_benchmark", "ev", models=NAME, structures="Cu")
    run, job = BenchmarkRun.objects.get(), Job.objects.get()
    cu = Structure.objects.get(label="Cu", structure_set__name="delta-dcdft")
    pages = [
        "/", "/tasks/ev/", "/jobs/", f"/runs/{run.pk}/", f"/jobs/{job.pk}/",
        f"/models/{model.slug}/", f"/structures/{cu.pk}/", "/?format=csv",
        "/tasks/ev/?format=csv", f"/jobs/?format=json&model={NAME}",
    ]  # fmt: skip
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
    assert f'href="/models/{model.slug}/"' in client.get("/tasks/ev/").content.decode()
    listed = client.get("/jobs/", {"format": "json", "model": NAME}).json()
    assert [row["model"] for row in listed] == [NAME]
    folder = export_dataset(repo_id="arena-test/names", folder=tmp_path / "export").folder
    assert NAME in (folder / "data" / "ev.jsonl").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", ["/models/%00/", "/models/a%2Fb/", "/models/nope/"])
def test_model_addresses_that_name_no_model_are_404(client, seeded, path):
    assert client.get(path).status_code == 404


def test_names_with_the_same_slug_get_numbered_slugs(db, tmp_path):
    seed(tmp_path, "Model A", "model-a", "MODEL/A")
    slugs = dict(MLIP.objects.values_list("name", "slug"))
    assert slugs == {"Model A": "model-a", "model-a": "model-a-2", "MODEL/A": "modela"}


def test_task_parameters_of_the_wrong_kind_are_refused(seeded):
    task = Task.objects.get(slug="eos")
    task.default_params = {**task.default_params, "fmax": "abc", "steps": 2.5}
    with pytest.raises(ValidationError) as refused:
        task.full_clean()
    assert refused.value.message_dict["default_params"] == [
        "task 'eos': fmax must be a number, not 'abc'; steps must be a whole number, not 2.5"
    ]


def test_a_slug_keeps_90_letters_and_a_name_without_any_gets_model(db, tmp_path):
    seed(tmp_path, "m" * 100, "M" * 95, "☃", "★ ☆", "n" * 91)
    slugs = dict(MLIP.objects.values_list("name", "slug"))
    assert slugs == {
        "m" * 100: "m" * 90,
        "M" * 95: "m" * 90 + "-2",
        "☃": "model",
        "★ ☆": "model-2",
        "n" * 91: "n" * 90,
    }
