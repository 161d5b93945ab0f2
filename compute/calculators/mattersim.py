"""MatterSim: a released model name ("MatterSim-v1.0.0-1M", "MatterSim-v1.0.0-5M") or a file
written by mattersim's ``Potential.save``."""

from __future__ import annotations

import contextlib
import io

from mattersim.forcefield.m3gnet.m3gnet import M3Gnet
from mattersim.forcefield.potential import MatterSimCalculator, Potential

from compute.checkpoints import Checkpoint
from compute.errors import CalculatorLoadError, first_line
from compute.torch_compat import load_weights

# mattersim downloads these from Microsoft's GitHub release into ~/.local/mattersim.
RELEASED = ("MatterSim-v1.0.0-1M", "MatterSim-v1.0.0-5M")


def load(checkpoint: Checkpoint, *, device: str) -> MatterSimCalculator:
    """MatterSim predicts stress in GPa; the calculator's default weight turns it into eV/Å³."""
    name = checkpoint.name.removesuffix(".pth")
    if name in RELEASED:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                potential = Potential.from_checkpoint(
                    name, device=device, load_training_state=False
                )
        except Exception as exc:
            raise CalculatorLoadError(
                f"cannot fetch MatterSim weights {name} ({first_line(exc)}); without network, "
                "put the release file in ~/.local/mattersim/pretrained_models/ or use its path"
            ) from exc
    else:
        potential = Potential(model_from_file(checkpoint, device=device), device=device)
    return MatterSimCalculator(potential=potential, device=device)


def model_from_file(checkpoint: Checkpoint, *, device: str) -> M3Gnet:
    """The M3GNet of a saved checkpoint, read weights-only (mattersim unpickles it fully)."""
    state = load_weights(checkpoint.local_file(), name=checkpoint.name)
    model = M3Gnet(device=device, **state["model_args"]).to(device)
    model.load_state_dict(state["model"], strict=False)
    return model.eval()
