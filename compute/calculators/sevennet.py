"""SevenNet: a shipped name ("7net-0", "7net-0_22May2024", "7net-l3i5") or a checkpoint file."""

from __future__ import annotations

from collections.abc import Sequence

from ase import Atoms

from compute.checkpoints import Checkpoint
from compute.torch_compat import e3nn_import_allowed, load_weights

with e3nn_import_allowed():
    import sevenn._keys as KEY
    from sevenn.atom_graph_data import AtomGraphData
    from sevenn.calculator import SevenNetCalculator
    from sevenn.train.dataload import unlabeled_atoms_to_graph
    from sevenn.util import model_from_checkpoint, pretrained_name_to_path
    from torch_geometric.data import Batch


class BatchedSevenNet(SevenNetCalculator):
    """SevenNet's calculator with a batched call over many structures (not for TorchScript)."""

    batch_size: int | None = None  # structures per batched call; None: as memory allows

    def calculate_batch(self, atoms_list: Sequence[Atoms], properties: Sequence[str]) -> list[dict]:
        """ASE's results for each structure from one model call over their joined graphs."""
        graphs = [
            AtomGraphData.from_numpy_dict(unlabeled_atoms_to_graph(atoms, self.cutoff))
            for atoms in atoms_list
        ]
        batch = Batch.from_data_list(graphs).to(self.device)
        self.model.set_is_batch_data(True)
        try:
            output = self.model(batch)
        finally:
            self.model.set_is_batch_data(False)
        sizes = [len(atoms) for atoms in atoms_list]
        energies = output[KEY.PRED_TOTAL_ENERGY].detach().cpu().numpy()
        forces = output[KEY.PRED_FORCE].detach().cpu().split(sizes)
        # SevenNet's stress is (xx, yy, zz, xy, yz, zx) with the opposite sign to ASE's
        stresses = -output[KEY.PRED_STRESS].detach().cpu().numpy()[:, [0, 1, 2, 4, 5, 3]]
        return [
            {"energy": float(e), "free_energy": float(e), "forces": f.numpy(), "stress": s}
            for e, f, s in zip(energies, forces, stresses, strict=True)
        ]


def load(
    checkpoint: Checkpoint,
    *,
    device: str,
    file_type: str = "checkpoint",
    batch_size: int | None = None,
) -> SevenNetCalculator:
    """``file_type`` is "checkpoint" (a .pth from training) or "torchscript" (deployed);
    ``batch_size``: structures per batched call, where memory estimates misjudge.

    A training checkpoint is a dict of a config, numpy arrays and state dicts, read here
    weights-only; a TorchScript file is code, so it must be trusted like a pickle.
    """
    calculator = _build(checkpoint, device=device, file_type=file_type)
    calculator.batch_size = batch_size
    return calculator


def _build(checkpoint: Checkpoint, *, device: str, file_type: str) -> SevenNetCalculator:
    try:
        shipped = pretrained_name_to_path(checkpoint.name)
    except ValueError:  # not a shipped name, so a path or URL
        shipped = None
    if file_type == "torchscript":  # a deployed model takes one structure per call
        path = str(shipped or checkpoint.pickle_file())
        return SevenNetCalculator(model=path, file_type=file_type, device=device)
    if shipped is not None:
        return BatchedSevenNet(model=shipped, file_type=file_type, device=device)
    state = load_weights(checkpoint.local_file(), name=checkpoint.name)
    with e3nn_import_allowed():
        model, _ = model_from_checkpoint(state)
    return BatchedSevenNet(model=model, file_type="model_instance", device=device)


def supported_numbers(calculator: SevenNetCalculator) -> set[int]:
    """The atomic numbers of the checkpoint's type map (its chemical species)."""
    return set(calculator.type_map)
