"""CHGNet: a shipped version name ("0.3.0", "0.2.0", "r2scan") or a model file."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import warnings
from collections.abc import Sequence

from ase import Atoms
from ase.stress import full_3x3_to_voigt_6_stress
from chgnet.model import CHGNet
from chgnet.model.dynamics import CHGNetCalculator
from pymatgen.io.ase import AseAtomsAdaptor

from compute.checkpoints import Checkpoint
from compute.torch_compat import load_weights

# Pretrained weights inside the chgnet wheel, loaded by CHGNet.load(model_name=...).
SHIPPED_VERSIONS = ("0.3.0", "0.2.0", "r2scan")
ISOLATED_ATOMS = "isolated atom(s)"  # CHGNet's graph converter's note, printed per call

log = logging.getLogger(__name__)


class IsolatedAtomCounting(CHGNetCalculator):
    """CHGNet's calculator that counts structures with atoms beyond its graph cutoff.

    CHGNet prints a line to stderr for every such call (a dimer curve's long tail gives
    hundreds); here the first is logged once and the rest are counted in
    ``isolated_atom_calls``. Any other stderr output passes through.
    """

    isolated_atom_calls = 0
    batch_size: int | None = None  # structures per batched call; None: as memory allows

    def calculate(self, *args, **kwargs) -> None:
        captured = io.StringIO()
        try:
            with contextlib.redirect_stderr(captured), warnings.catch_warnings():
                # Two notes CHGNet's own calculator gives on every process's first call,
                # neither about our use: its stress reads the volume of a tensor that
                # carries gradients, and pymatgen drops constraints (FixSymmetry) that the
                # model never sees anyway.
                warnings.filterwarnings("ignore", "Converting a tensor with requires_grad")
                warnings.filterwarnings("ignore", "Only FixAtoms and FixCartesian")
                super().calculate(*args, **kwargs)
        finally:
            self._pass_on(captured.getvalue())

    def calculate_batch(self, atoms_list: Sequence[Atoms], properties: Sequence[str]) -> list[dict]:
        """ASE's results for each structure from one CHGNet call over all their graphs."""
        captured = io.StringIO()
        try:
            with contextlib.redirect_stderr(captured), warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Converting a tensor with requires_grad")
                graphs = [
                    self.model.graph_converter(AseAtomsAdaptor.get_structure(atoms))
                    for atoms in atoms_list
                ]
                predictions = self.model.predict_graph(
                    graphs, task="efs" if "stress" in properties else "ef", batch_size=len(graphs)
                )
        finally:
            self._pass_on(captured.getvalue())
        if len(graphs) == 1:  # CHGNet unwraps a list of one
            predictions = [predictions]
        return [
            self._as_results(prediction, len(atoms))
            for prediction, atoms in zip(predictions, atoms_list, strict=True)
        ]

    def _as_results(self, prediction: dict, natoms: int) -> dict:
        energy = float(prediction["e"] * (natoms if self.model.is_intensive else 1))
        results = {"energy": energy, "free_energy": energy, "forces": prediction["f"]}
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
            model, use_device=device, on_isolated_atoms=on_isolated_atoms
        )
    calculator.batch_size = batch_size
    return calculator


def supported_numbers(calculator: CHGNetCalculator) -> set[int]:
    """Z = 1 up to the size of CHGNet's atom embedding (94 rows: H to Pu)."""
    return set(range(1, calculator.model.atom_embedding.embedding.num_embeddings + 1))
