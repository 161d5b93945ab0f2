"""Calculators built to break MD on purpose: noisy forces, NaN energies, an error mid-run."""

from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT


class NoisyEMT(Calculator):
    """EMT with Gaussian noise of ``sigma_ev_per_a`` added to every force: not conservative."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, sigma_ev_per_a: float, seed: int = 0) -> None:
        super().__init__()
        self.emt = EMT()
        self.sigma = sigma_ev_per_a
        self.rng = np.random.default_rng(seed)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.emt.calculate(atoms, ["energy", "forces"], system_changes)
        noise = self.rng.normal(0.0, self.sigma, (len(atoms), 3))
        self.results = {
            "energy": self.emt.results["energy"],
            "forces": self.emt.results["forces"] + noise,
        }


class BreaksAt(Calculator):
    """EMT until call ``calls``, then NaN energies (``nan``) or a RuntimeError (``raise``)."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, calls: int, how: str) -> None:
        super().__init__()
        self.emt = EMT()
        self.calls, self.how, self.made = calls, how, 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.made += 1
        if self.made > self.calls and self.how == "raise":
            raise RuntimeError("the model gave up")
        self.emt.calculate(atoms, ["energy", "forces"], system_changes)
        self.results = dict(self.emt.results)
        if self.made > self.calls:
            self.results["energy"] = float("nan")


class NoForces(Calculator):
    """Zero energy and forces: atoms fly in straight lines, x(t) = x0 + p t / m."""

    implemented_properties = ["energy", "forces"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results = {"energy": 0.0, "forces": np.zeros((len(atoms), 3))}
