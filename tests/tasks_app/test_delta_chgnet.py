"""CHGNet's shipped weights against the Delta test's WIEN2k references, end to end."""

import pytest
from ase.collections import dcdft
from ase.eos import EquationOfState
from ase.units import GPa
from django.core.management import call_command

from compute.structures import atoms_from_dict
from tasks_app.models import Result, Structure
from tasks_app.structure_sets import store_structure_set

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ELEMENTS = ["Cu", "Si", "Ag", "W"]


def test_chgnet_eos_agrees_with_wien2k_within_honest_tolerances(seeded, inline_jobs):
    delta = {s.label: s for s in Structure.objects.filter(structure_set__name="delta-dcdft")}
    store_structure_set(
        name="delta-few",
        description="",
        structures=[(el, atoms_from_dict(delta[el].atoms), delta[el].reference) for el in ELEMENTS],
    )
    call_command("run_benchmark", "eos", models="CHGNet", set_name="delta-few")

    for result in Result.objects.select_related("structure"):
        element = result.structure.label
        # The bounds against WIEN2k below are the model's physics and too loose to catch
        # a bug of a few percent; the fit is checked on its own first: ASE's nonlinear
        # Birch–Murnaghan fit of the same CHGNet energies minimises the same residuals,
        # so it agrees to scipy leastsq's tolerance (1.5e-8), B′ a little less.
        ase_eos = EquationOfState(
            result.output["volumes_a3"], result.output["energies_ev"], eos="birchmurnaghan"
        )
        v0, _, b0 = ase_eos.fit()
        natoms = result.output["natoms"]
        assert result.headline["v0_a3_per_atom"] == pytest.approx(v0 / natoms, rel=1e-8)
        assert result.headline["b0_gpa"] == pytest.approx(b0 / GPa, rel=1e-8)
        assert result.headline["b0_prime"] == pytest.approx(ase_eos.eos_parameters[2], rel=1e-5)
        wien2k = dcdft.data[element]  # read straight from ASE, not from our copy
        # PBE-trained universal models sit within a few percent of PBE volumes;
        # bulk moduli scatter more (softening is a known trait of these models).
        assert result.headline["v0_a3_per_atom"] == pytest.approx(wien2k["wien2k_volume"], rel=0.03)
        assert result.headline["b0_gpa"] == pytest.approx(wien2k["wien2k_B"], rel=0.25)
        assert 0 < result.metrics["delta_mev_per_atom"] < 15
        assert result.metrics["energy_derivative_flips"] == 1
    assert Result.objects.count() == len(ELEMENTS)
