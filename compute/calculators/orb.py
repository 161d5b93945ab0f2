"""ORB (orb-models): a pretrained name ("orb-v3-conservative-inf-omat", "orb-v2", ...), or a
state dict file, URL or hf:// file for the architecture of such a name."""

from __future__ import annotations

from orb_models.forcefield.calculator import ORBCalculator
from orb_models.forcefield.pretrained import ORB_PRETRAINED_MODELS

from compute.checkpoints import Checkpoint
from compute.errors import CalculatorLoadError, first_line


def load(
    checkpoint: Checkpoint,
    *,
    device: str,
    architecture: str = "orb-v3-conservative-inf-omat",
    precision: str = "float32-high",
) -> ORBCalculator:
    """``architecture`` names the pretrained model whose layout a state dict file fits;
    ``precision``: "float32-high", "float32-highest" or "float64".

    orb-models reads every weights file with ``torch.load(weights_only=True)``.
    """
    if checkpoint.name in ORB_PRETRAINED_MODELS:
        build, weights = ORB_PRETRAINED_MODELS[checkpoint.name], None
    elif architecture in ORB_PRETRAINED_MODELS:
        build, weights = ORB_PRETRAINED_MODELS[architecture], str(checkpoint.local_file())
    else:
        raise CalculatorLoadError(
            f"orb architecture {architecture!r} is not a pretrained orb model; "
            f"choose one of: {', '.join(ORB_PRETRAINED_MODELS)}"
        )
    extra = {"weights_path": weights} if weights else {}
    try:
        model = build(device=device, precision=precision, compile=False, **extra)
    except Exception as exc:
        if weights:
            raise
        raise CalculatorLoadError(
            f"cannot fetch orb weights {checkpoint.name} ({first_line(exc)}); without network, "
            f"download them once and use the file as the checkpoint with architecture "
            f"{checkpoint.name!r}"
        ) from exc
    return ORBCalculator(model, device=device)
