"""Registering a model through the admin form, and the admin's load check."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.eos import EquationOfState
from ase.units import GPa
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.management import call_command

from compute.structures import atoms_from_dict
from models_app.models import MLIP
from tasks_app.models import Result, Task
from tasks_app.structure_sets import store_structure_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, seeded):
    user = User.objects.create_superuser("admin", "admin@example.org", "pw")
    client.force_login(user)
    store_structure_set(
        name="cu-only", description="", structures=[("Cu", bulk("Cu", "fcc", a=3.6), {})]
    )
    return client


def add_form(**overrides):
    form = {
        "name": "Tiny MACE",
        "family": "mace",
        "checkpoint": "https://example.org/tiny.model",
        "calculator_kwargs": '{"default_dtype": "float64"}',
        "package_pin": "mace-torch",
        "training_datasets": "MPtrj",
        "cpu_tasks": ["eos"],
        "prediction_type": "EFS",
        "license": "MIT",
        "code_url": "",
        "paper_url": "",
        "release_date": "",
        "enabled": "on",
    }
    form.update(overrides)
    return form


def test_model_added_in_the_admin_runs_a_benchmark_without_code(admin_client, inline_jobs):
    # A new model is a family, a checkpoint and kwargs: here ASE's EMT with the
    # ASAP cutoff, which changes its energies.
    response = admin_client.post(
        "/admin/models_app/mlip/add/",
        add_form(
            name="EMT-ASAP", family="emt", checkpoint="", calculator_kwargs='{"asap_cutoff": true}'
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    model = MLIP.objects.get(name="EMT-ASAP")
    assert model.calculator_kwargs == {"asap_cutoff": True}

    call_command("run_benchmark", "eos", models="EMT-ASAP", set_name="cu-only")
    result = Result.objects.get(model=model)

    # Independent reference: ASE's EquationOfState on energies from EMT(asap_cutoff=True).
    atoms = atoms_from_dict(result.structure.atoms)
    volumes, energies = [], []
    for factor in np.linspace(0.8, 1.2, 21):
        scaled = atoms.copy()
        scaled.set_cell(atoms.cell * factor ** (1 / 3), scale_atoms=True)
        scaled.calc = EMT(asap_cutoff=True)
        volumes.append(scaled.get_volume())
        energies.append(scaled.get_potential_energy())
    v0, _, b0 = EquationOfState(volumes, energies, eos="birchmurnaghan").fit()
    assert result.headline["b0_gpa"] == pytest.approx(b0 / GPa, rel=2e-3)
    assert result.headline["v0_a3_per_atom"] == pytest.approx(v0 / len(atoms), rel=1e-3)
    default_emt = EMT()
    atoms.calc = default_emt
    assert result.headline["e0_ev_per_atom"] != pytest.approx(
        atoms.get_potential_energy() / len(atoms)
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("family", "vasp", "Select a valid choice"),
        ("calculator_kwargs", "[1, 2]", "must be a JSON object"),
        ("calculator_kwargs", "{not json", "Enter a valid JSON"),
        ("gpu_tasks", ["eos", "3"], "GPU tasks: 3 is not a task of the registry"),
        ("release_date", "2023-02-30", "Enter a valid date."),
        ("prediction_type", "EFGH", "Select a valid choice"),
        ("name", "", "This field is required."),
        ("name", "CHGNet", "MLIP with this Name already exists."),
    ],
)
def test_malformed_entries_are_refused_in_the_form(admin_client, field, value, message):
    response = admin_client.post("/admin/models_app/mlip/add/", add_form(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not MLIP.objects.filter(name="Tiny MACE").exists()
    assert MLIP.objects.filter(name="CHGNet").get().family == "chgnet"  # untouched


@pytest.mark.parametrize(
    ("field", "entry", "message"),
    [
        ("cpu_tasks", {"cpu_tasks": ["eos", "eso"]}, "CPU tasks: eso is not a task"),
        (
            "checkpoint",
            {"family": "chgnet", "checkpoint": "0.9.0", "calculator_kwargs": "{}"},
            "checkpoint: chgnet has no version &#x27;0.9.0&#x27;",
        ),
        (
            "calculator_kwargs",
            {
                "family": "chgnet",
                "checkpoint": "0.3.0",
                "calculator_kwargs": '{"on_isolated_atom": "ignore"}',
            },
            "calculator_kwargs: chgnet takes no keyword &#x27;on_isolated_atom&#x27; "
            "(did you mean &#x27;on_isolated_atoms&#x27;?)",
        ),
        (
            "checkpoint",
            {"checkpoint": "/models/2023-12-03-mace-128-L1.model"},
            "checkpoint: checkpoint file &#x27;/models/2023-12-03-mace-128-L1.model&#x27; "
            "does not exist on this machine",
        ),
    ],
)  # fmt: skip
def test_the_admin_refuses_invalid_registry_entries_naming_the_field(
    admin_client, field, entry, message
):
    """The four entries the admin used to save without complaint."""
    response = admin_client.post("/admin/models_app/mlip/add/", add_form(**entry))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(response.context["adminform"].form.errors) == [field]
    assert not MLIP.objects.filter(name="Tiny MACE").exists()


def test_the_form_shows_tasks_as_checkboxes_and_datasets_as_a_list(admin_client):
    page = admin_client.get("/admin/models_app/mlip/add/").content.decode()
    for slug in Task.objects.values_list("slug", flat=True):
        assert f'type="checkbox" name="cpu_tasks" value="{slug}"' in page
    response = admin_client.post(
        "/admin/models_app/mlip/add/",
        add_form(training_datasets="MPtrj, OMat24 ,", cpu_tasks=["eos", "ev"]),
    )
    assert response.status_code == 302
    model = MLIP.objects.get(name="Tiny MACE")
    assert (model.training_datasets, model.cpu_tasks, model.gpu_tasks) == (
        ["MPtrj", "OMat24"],
        ["eos", "ev"],
        [],
    )


def test_save_and_check_stores_the_outcome_and_a_failed_model_leaves_the_ranks(
    admin_client, tmp_path
):
    """EMT loads: the row records success. A MACE file that is not pinned is refused when
    loaded: the row records the failure, and the model is shown set aside, unranked."""
    from leaderboard_app.standings import task_scores
    from tasks_app.evidence import task_evidence

    response = admin_client.post(
        "/admin/models_app/mlip/add/",
        add_form(name="EMT-ASAP", family="emt", checkpoint="", calculator_kwargs="{}", _check="1"),
    )
    model = MLIP.objects.get(name="EMT-ASAP")
    assert response["Location"] == f"/admin/models_app/mlip/{model.pk}/change/"
    assert (model.last_check_ok, model.last_check_at is not None) == (True, True)
    assert model.last_check_message.startswith("EMT-ASAP loads: fcc Cu energy")

    weights = tmp_path / "tiny.model"
    weights.write_bytes(b"not a pickle")
    admin_client.post("/admin/models_app/mlip/add/", add_form(checkpoint=str(weights), _check="1"))
    broken = MLIP.objects.get(name="Tiny MACE")
    assert broken.last_check_ok is False and "Tiny MACE" in broken.last_check_message
    row = {"metrics": {"tortuosity": 1.0}}
    task = Task.objects.get(slug="eos")
    evidence = task_evidence(tasks=[task], models=[broken, model])[task.pk]
    evidence.results = {m.pk: {1: type("Row", (), row)()} for m in (broken, model)}
    scores = {s.model: s for s in task_scores(evidence, [broken, model])}
    assert scores["EMT-ASAP"].rank == 1
    assert scores["Tiny MACE"].rank == 0 and scores["Tiny MACE"].set_aside


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("function", "kappa", "unknown task function &#x27;kappa&#x27;; choose one of: eos"),
        ("default_params", "[1]", "must be a JSON object"),
        ("slug", "eos", "Task with this Slug already exists."),
    ],
)
def test_malformed_tasks_are_refused_in_the_form(admin_client, field, value, message):
    form = {
        "slug": "new-eos",
        "name": "New",
        "category": "",
        "description": "",
        "function": "eos",
        "version": "1",
        "default_params": "{}",
        "default_structure_set": "",
    }
    response = admin_client.post("/admin/tasks_app/task/add/", {**form, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Task.objects.filter(slug="new-eos").exists()


def test_admin_lists_searches_and_filters(admin_client):
    page = admin_client.get("/admin/models_app/mlip/", {"q": "CHG"}).content.decode()
    assert "CHGNet" in page and "SevenNet-0" not in page
    page = admin_client.get(
        "/admin/models_app/mlip/", {"family__exact": "sevennet"}
    ).content.decode()
    assert "SevenNet-0" in page and "CHGNet" not in page


def test_check_that_it_loads_action_reports_each_outcome(admin_client, tmp_path):
    broken = MLIP.objects.create(
        name="Broken", family="mace", checkpoint=str(tmp_path / "no.model")
    )
    emt = MLIP.objects.get(name="EMT")
    response = admin_client.post(
        "/admin/models_app/mlip/",
        {"action": "check_loads", "_selected_action": [emt.pk, broken.pk]},
        follow=True,
    )
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(t.startswith("EMT loads: fcc Cu energy") and "EMT" in t for t in texts)
    assert any(t.startswith("Broken does not load:") and "does not exist" in t for t in texts), (
        texts
    )
