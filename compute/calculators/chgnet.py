"""CHGNet: a shipped version name ("0.3.0", "0.2.0", "r2scan") or a model file."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import warnings
from collections.abc import Sequence

import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.stress import full_3x3_to_voigt_6_stress
from chgnet.graph import CrystalGraph
from chgnet.model import CHGNet
from chgnet.model.dynamics import CHGNetCalculator
from chgnet.model.model import BatchedGraph
from pymatgen.io.ase import AseAtomsAdaptor

from compute.checkpoints import Checkpoint
from compute.torch_compat import load_weights

# Pretrained weights inside the chgnet wheel, loaded by CHGNet.load(model_name=...).
SHIPPED_VERSIONS = ("0.3.0", "0.2.0", "r2scan")
ISOLATED_ATOMS = "isolated atom(s)"  # CHGNet's graph converter's note, printed per call
EV_PER_A3_IN_GPA = 160.21766208  # CHGNet's own factor from eV/Å³ to GPa

log = logging.getLogger(__name__)


class IsolatedAtomCounting(CHGNetCalculator):
    """CHGNet's calculator that counts structures with atoms beyond its graph cutoff, and
    takes forces and stress from one backward pass (``predict``).

    CHGNet prints a line to stderr for every such call (a dimer curve's long tail gives
    hundreds); here the first is logged once and the rest are counted in
    ``isolated_atom_calls``. Any other stderr output passes through. Results are
    CHGNet's energy, forces, stress and magnetic moments (not its crystal features).
    """

    isolated_atom_calls = 0
    batch_size: int | None = None  # structures per batched call; None: as memory allows

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: Sequence[str] | None = None,
        system_changes: Sequence[str] = all_changes,
    ) -> None:
        Calculator.calculate(self, atoms, properties, system_changes)
        self.results = self.calculate_batch([self.atoms], ("energy", "forces", "stress"))[0]

    def calculate_batch(self, atoms_list: Sequence[Atoms], properties: Sequence[str]) -> list[dict]:
        """ASE's results for each structure from one CHGNet call over all their graphs."""
        captured = io.StringIO()
        try:
            with contextlib.redirect_stderr(captured), warnings.catch_warnings():
                # Two notes on every process's first call, neither about our use: CHGNet
                # reads the volumes of tensors that carry gradients, and pymatgen drops
                # constraints (FixSymmetry) that the model never sees anyway.
                warnings.filterwarnings("ignore", "Converting a tensor with requires_grad")
                warnings.filterwarnings("ignore", "Only FixAtoms and FixCartesian")
                graphs = [
                    self.model.graph_converter(AseAtomsAdaptor.get_structure(atoms))
                    for atoms in atoms_list
                ]
                predictions = predict(
                    self.model,
                    [graph.to(self.device) for graph in graphs],
                    stress="stress" in properties,
                )
        finally:
            self._pass_on(captured.getvalue())
        return [self._as_results(prediction) for prediction in predictions]

    def _as_results(self, prediction: dict) -> dict:
        results = {"energy": prediction["e"], "free_energy": prediction["e"]}
        results |= {"forces": prediction["f"], "magmoms": prediction["m"]}
        if "s" in prediction:
            results["stress"] = full_3x3_to_voigt_6_stress(prediction["s"] * self.stress_weight)
        return results

    def _pass_on(self, text: str) -> None:
        for line in text.splitlines(keepends=True):
            if ISOLATED_ATOMS not in line:
                sys.stderr.write(line)
                continue
            if not self.isolated_atom_calls:
                log.warning(
                    "CHGNet: %s (further such structures are counted, not printed)",
                    line.strip(),
                )
            self.isolated_atom_calls += 1


def predict(model: CHGNet, graphs: Sequence[CrystalGraph], *, stress: bool) -> list[dict]:
    """Per graph: energy ``e`` (eV, the whole cell), forces ``f`` (eV/Å), magnetic moments
    ``m`` (μB) and, with ``stress``, ``s`` (GPa), as CHGNet's ``predict_graph`` gives them.

    CHGNet's own call takes forces and stress in two backward passes that build the
    graphs of their derivatives (for training on them); one pass without those graphs
    gives the same numbers in about half the time. Built on CHGNet 0.4's ``BatchedGraph``
    and ``_compute``, which the pinned version has.
    """
    # per atom where the model is intensive; first, as CHGNet's forward (its error on an
    # element outside the model is the one users know)
    shift = 0 if model.composition_model is None else model.composition_model(graphs)
    batched = BatchedGraph.from_graphs(
        graphs,
        bond_basis_expansion=model.bond_basis_expansion,
        angle_basis_expansion=model.angle_basis_expansion,
        compute_stress=stress,
    )
    prediction = model._compute(batched, compute_magmom=True)
    atoms_per_graph = prediction["atoms_per_graph"]
    energy = prediction["e"] * atoms_per_graph if model.is_intensive else prediction["e"]
    inputs = [*batched.atom_positions, *(batched.strains if stress else ())]
    gradients = torch.autograd.grad(energy.sum(), inputs, materialize_grads=True)
    energy = energy + (shift * atoms_per_graph if model.is_intensive else shift)
    results = [
        {"e": float(e), "f": -f.numpy(force=True), "m": m.numpy(force=True)}
        for e, f, m in zip(energy, gradients[: len(graphs)], prediction["m"], strict=True)
    ]
    if stress:
        scale = EV_PER_A3_IN_GPA / batched.volumes
        for result, gradient, factor in zip(results, gradients[len(graphs) :], scale, strict=True):
            result["s"] = (gradient * factor).numpy(force=True)
    return results


def load(
    checkpoint: Checkpoint,
    *,
    device: str,
    on_isolated_atoms: str = "warn",
    batch_size: int | None = None,
) -> IsolatedAtomCounting:
    """``batch_size``: structures per batched call, where memory estimates misjudge."""
    # CHGNet prints its parameter count and device on every load.
    with contextlib.redirect_stdout(io.StringIO()):
        if checkpoint.name in SHIPPED_VERSIONS:
            model = CHGNet.load(model_name=checkpoint.name, use_device=device, verbose=False)
        else:
            # A CHGNet file is a dict of model_args and a state dict: CHGNet.from_file
            # unpickles it fully, so read it weights-only and build from the dict.
            state = load_weights(checkpoint.local_file(), name=checkpoint.name)
            model = CHGNet.from_dict(state["model"])
        calculator = IsolatedAtomCounting(
            model.eval(), use_device=device, on_isolated_atoms=on_isolated_atoms
        )
    calculator.batch_size = batch_size
    return calculator


def supported_numbers(calculator: CHGNetCalculator) -> set[int]:
    """Z = 1 up to the size of CHGNet's atom embedding (94 rows: H to Pu)."""
    return set(range(1, calculator.model.atom_embedding.embedding.num_embeddings + 1))
