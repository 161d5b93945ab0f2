"""arena.calculator(NAME) from plain Python: the registered model's calculator, no Django code."""

from __future__ import annotations

import numpy as np

from tests.publishing.conftest import run_python, sqlite_env

NOTEBOOK = """
import arena
from ase.build import bulk
from ase.calculators.emt import EMT
from chgnet.model import CHGNet
from chgnet.model.dynamics import CHGNetCalculator

print("MODELS", sorted(arena.models()))
for name, reference in [("EMT", EMT()), ("chgnet", CHGNetCalculator(CHGNet.load(verbose=False)))]:
    atoms, direct = bulk("Cu", "fcc", a=3.6), bulk("Cu", "fcc", a=3.6)
    atoms.calc, direct.calc = arena.calculator(name), reference
    print("ENERGY", name, atoms.get_potential_energy(), direct.get_potential_energy())
try:
    arena.calculator("GAP-20")
except Exception as exc:
    print("ERROR", type(exc).__name__, exc)
"""


def test_a_registered_model_by_name_gives_its_calculator(seeded_sqlite, tmp_path, monkeypatch):
    for key, value in sqlite_env(seeded_sqlite.copy(tmp_path / "arena.sqlite3")).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    assert all(outcome["returncode"] == 0 for outcome in seeded_sqlite.outcomes.values())
    done = run_python(NOTEBOOK)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.split(" ")[0].isupper()]
    assert "'CHGNet'" in lines[0] and "'EMT'" in lines[0]
    for line in lines[1:3]:
        _, _, mine, reference = line.split()
        # CHGNet computes in float32 and its calculator prints a float32; ours a float64
        # of the same float32: equal to the last bit of the model's own precision.
        assert np.float32(float(mine)) == np.float32(float(reference))
    assert lines[3].startswith("ERROR ArenaError no model named 'GAP-20'; registered models: ")
