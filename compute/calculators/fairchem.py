"""fairchem (UMA, eSEN): a registered model name ("uma-s-1p1", "esen-sm-conserving-all-omol",
...) fetched from the Hub by fairchem, or a checkpoint file, URL or hf:// file."""

from __future__ import annotations

from fairchem.core.calculate.ase_calculator import FAIRChemCalculator
from fairchem.core.calculate.pretrained_mlip import available_models, get_predict_unit
from fairchem.core.units.mlip_unit import load_predict_unit
from fairchem.core.units.mlip_unit.predict import MLIPPredictUnitProtocol

from compute.checkpoints import Checkpoint
from compute.errors import CalculatorLoadError
from compute.hub import hub_error_message

HUB_REPO = "facebook/UMA"


def load(
    checkpoint: Checkpoint,
    *,
    device: str,
    task_name: str | None = None,
    inference_settings: str = "default",
) -> FAIRChemCalculator:
    """``task_name``: the UMA head ("omat", "omol", "oc20", "odac", "omc");
    ``inference_settings``: "default", "high-precision" or "batch"."""
    torch_device = "cuda" if device.startswith("cuda") else "cpu"
    if checkpoint.name in available_models:
        try:
            unit = get_predict_unit(
                checkpoint.name, inference_settings=inference_settings, device=torch_device
            )
        except Exception as exc:
            reason = hub_error_message(
                exc, what=f"fairchem model {checkpoint.name}", repo_id=HUB_REPO
            )
            raise CalculatorLoadError(
                f"{reason}; UMA checkpoints are gated: accept the license at "
                f"https://huggingface.co/{HUB_REPO} and set HF_TOKEN"
            ) from exc
    else:
        # fairchem unpickles a checkpoint and instantiates the classes its config names.
        path = checkpoint.pickle_file()
        unit = load_predict_unit(path, inference_settings, device=torch_device)
    return calculator_for_unit(unit, task_name=task_name)


def calculator_for_unit(
    unit: MLIPPredictUnitProtocol, *, task_name: str | None = None
) -> FAIRChemCalculator:
    """fairchem's calculator: energy in eV, forces in eV/Å, the 3×3 stress (eV/Å³) as Voigt."""
    return FAIRChemCalculator(unit, task_name=task_name)
