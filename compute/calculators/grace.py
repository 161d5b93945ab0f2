"""GRACE (tensorpotential): a foundation model name ("GRACE-2L-OAM", "GRACE-1L-OMAT", ...)
fetched by tensorpotential, or a saved TensorFlow model folder. TensorFlow picks the device."""

from __future__ import annotations

from tensorpotential.calculator.asecalculator import TPCalculator
from tensorpotential.calculator.foundation_models import MODELS_NAME_LIST, grace_fm

from compute.checkpoints import Checkpoint
from compute.errors import CalculatorLoadError, first_line


def load(checkpoint: Checkpoint, *, device: str) -> TPCalculator:
    if checkpoint.name in MODELS_NAME_LIST:
        try:
            return grace_fm(checkpoint.name)
        except Exception as exc:
            raise CalculatorLoadError(
                f"cannot fetch GRACE model {checkpoint.name} ({first_line(exc)}); without "
                "network, download it once into ~/.cache/grace or use its folder as the checkpoint"
            ) from exc
    # A saved TensorFlow model is a program (its graph), so it must be trusted.
    return TPCalculator(model=str(checkpoint.pickle_file()))
