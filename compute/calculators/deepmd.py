"""DeePMD (deepmd-kit, PyTorch backend): a built-in pretrained name ("DPA-3.1-3M", ...) that
deepmd-kit downloads and checks against its SHA-256, or a frozen model (.pth) or checkpoint."""

from __future__ import annotations

from deepmd.calculator import DP
from deepmd.pretrained.registry import MODEL_REGISTRY

from compute.checkpoints import Checkpoint
from compute.errors import CalculatorLoadError, first_line


def load(checkpoint: Checkpoint, *, device: str, head: str | None = None) -> DP:
    """``head``: the branch of a multi-task model (DPA-3), e.g. "MP_traj_v024_alldata_mixu".

    deepmd-kit reads the device from CUDA_VISIBLE_DEVICES itself.
    """
    if checkpoint.name in MODEL_REGISTRY:
        try:
            return DP(model=checkpoint.name, head=head)
        except Exception as exc:
            raise CalculatorLoadError(
                f"cannot fetch DeePMD model {checkpoint.name} ({first_line(exc)}); without "
                "network, download its file once and use the file as the checkpoint"
            ) from exc
    # Frozen models are TorchScript programs and checkpoints pickles.
    return DP(model=str(checkpoint.pickle_file()), head=head)
