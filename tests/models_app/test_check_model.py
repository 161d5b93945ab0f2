"""check_model: one cell evaluated in the model's environment, the outcome on the row."""

from __future__ import annotations

import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from models_app.models import MLIP
from tests.compute.tiny_models import build_tiny_mace
from tests.conftest import database_url_for_subprocess, manage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def db_env(seeded):
    database_url = database_url_for_subprocess()
    if database_url is None:
        pytest.skip("the command runs in a child process that needs DATABASE_URL")
    return {"DATABASE_URL": database_url}


def test_a_model_that_loads_prints_its_energy_and_records_success(db_env):
    copper = bulk("Cu", "fcc", a=3.6)
    copper.calc = EMT()
    done = manage("check_model", "emt", env=db_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        f"EMT loads: fcc Cu energy {copper.get_potential_energy():.4f} eV, max |F| 0.0000 eV/Å "
        "with EMT"
    )
    row = MLIP.objects.get(name="EMT")
    assert (row.last_check_ok, row.last_check_message) == (True, done.stdout.strip())
    assert row.last_check_at is not None


def test_a_model_that_does_not_load_exits_non_zero_with_one_line(db_env, tmp_path):
    path = build_tiny_mace(tmp_path / "tiny.model")
    MLIP.objects.create(name="Tiny MACE", family="mace", checkpoint=str(path))
    done = manage("check_model", "Tiny MACE", env=db_env)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("CommandError: model 'Tiny MACE': checkpoint")
    assert "can run code when loaded" in last
    row = MLIP.objects.get(name="Tiny MACE")
    assert row.last_check_ok is False
    assert row.last_check_message == last.removeprefix("CommandError: ")


def test_a_model_whose_environment_is_not_built_says_how_to_build_it(db_env, tmp_path):
    MLIP.objects.create(name="UMA-S", family="fairchem", checkpoint="uma-s-1p1")
    done = manage("check_model", "UMA-S", env={**db_env, "ARENA_ENVS_DIR": str(tmp_path)})
    assert done.returncode == 1
    message = (
        "UMA-S runs in the worker environment 'fairchem', which is not built: "
        "run `python manage.py build_env fairchem`"
    )
    assert done.stderr == f"CommandError: {message}\n"
    assert MLIP.objects.get(name="UMA-S").last_check_message == message


def test_an_unknown_name_lists_the_registered_ones(db_env):
    done = manage("check_model", "GAP-20", env=db_env)
    assert done.returncode == 1
    assert done.stderr.startswith("CommandError: no model named 'GAP-20'; registered models: ")


def test_a_check_records_the_parameter_count(seeded):
    """CHGNet 0.3.0 has 412,525 parameters (CHGNet prints so when it loads); EMT has none."""
    from models_app.services import model_check

    MLIP.objects.update(parameter_count=None)  # the seed lists CHGNet's count
    chgnet, emt = MLIP.objects.get(name="CHGNet"), MLIP.objects.get(name="EMT")
    assert model_check(model=chgnet)[0] and model_check(model=emt)[0]
    chgnet.refresh_from_db()
    emt.refresh_from_db()
    assert (chgnet.parameter_count, emt.parameter_count) == (412_525, None)


def test_a_check_that_fails_outside_the_loader_records_the_error_type(seeded):
    """A row written past validation (kwargs a JSON list) fails in ``dict()``, before any
    loader: the message names the model and the Python error, on one line."""
    from models_app.services import model_check

    model = MLIP.objects.create(name="Odd", family="emt", calculator_kwargs=[1])
    expected = "Odd: TypeError: cannot convert dictionary update sequence element #0 to a sequence"
    assert model_check(model=model) == (False, expected)
    model.refresh_from_db()
    assert (model.last_check_ok, model.last_check_message) == (False, expected)
    assert model.parameter_count is None
