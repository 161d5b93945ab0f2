"""A climbing-image NEB (ASE's, improved tangent) that checkpoints and resumes exactly.

The state saved through the run context is the images' positions, the optimizer's
step count and, for BFGS, its Hessian (as its rank-two updates: ``compute/low_rank_bfgs.py``)
and last positions and forces (float64 bytes in base64, exact), so a run resumed after its
worker died takes the same steps as one never stopped. The end points carry their relaxed
energy and forces and are not evaluated again at each step; each moving image keeps its
own cache of the shared model's results, since ASE's optimizers ask the NEB for forces up
to three times a step. With a model that has a batch call, all moving images are
evaluated in one call per step.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.calculators.singlepoint import SinglePointCalculator
from ase.geometry import find_mic
from ase.mep import NEB
from ase.optimize import BFGS, FIRE
from ase.optimize.bfgs import BFGSMethod
from ase.optimize.optimize import Optimizer

from compute.batch import evaluate_batch, has_batch_call
from compute.cached_model import CachedModel
from compute.errors import TaskFailed, one_line
from compute.low_rank_bfgs import LowRankBFGS, LowRankBFGSMethod
from compute.run_context import RunContext, State

# ASE's BFGS steps (MLIP Arena's choice), without its O(n³) eigendecomposition a step.
NEB_OPTIMIZERS: dict[str, type[Optimizer]] = {"BFGS": LowRankBFGS, "FIRE": FIRE}


def encode(array: np.ndarray | None) -> str | None:
    """A float64 array as base64 of its bytes: exact, and a third of JSON's size."""
    if array is None:
        return None
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.float64).tobytes()).decode()


def decode(text: str | None, shape: tuple[int, ...]) -> np.ndarray | None:
    if text is None:
        return None
    return np.frombuffer(base64.b64decode(text), dtype=np.float64).reshape(shape).copy()


def optimizer_state(opt: Optimizer) -> dict[str, Any]:
    """What the optimizer needs to take its next step as it would have."""
    if isinstance(opt, BFGS):
        hessian = {"ndofs": opt.optimizable.ndofs(), "pos0": encode(opt.pos0)}
        hessian["forces0"] = encode(opt.forces0)
        if isinstance(opt.state, LowRankBFGSMethod):
            hessian["vectors"] = encode(opt.state.vectors)
            hessian["weights"] = encode(opt.state.weights)
        elif opt.state is not None:
            hessian["hessian"] = encode(opt.state.hessian)
        return hessian
    velocity = None if opt.vel is None else opt.vel.tolist()
    return {"velocity": velocity, "dt": opt.dt, "a": opt.a, "n_since_down": opt.Nsteps}


def restore_optimizer(opt: Optimizer, state: dict[str, Any]) -> None:
    if isinstance(opt, BFGS):
        n = int(state["ndofs"])
        if "vectors" in state:
            weights = decode(state["weights"], (-1,))
            vectors = decode(state["vectors"], (n, len(weights)))
            opt.state = LowRankBFGSMethod(n, opt.alpha, vectors, weights)
        elif "hessian" in state:
            opt.state = BFGSMethod(decode(state["hessian"], (n, n)))
        else:
            opt.state = None
        opt.pos0, opt.forces0 = decode(state["pos0"], (n,)), decode(state["forces0"], (n,))
        return
    velocity = state["velocity"]
    opt.vel = None if velocity is None else np.array(velocity, dtype=float)
    opt.dt, opt.a, opt.Nsteps = state["dt"], state["a"], state["n_since_down"]


@dataclass(frozen=True)
class NEBResult:
    images: list[Atoms]
    energies_ev: list[float]
    converged: bool
    steps: int
    resumed_from_step: int | None

    @property
    def climbing_image(self) -> int:
        return 1 + int(np.argmax(self.energies_ev[1:-1]))

    def path_a(self) -> list[float]:
        """Distance along the path (Å): the cumulative 3N-dimensional length, mic."""
        lengths = [0.0]
        for before, after in zip(self.images, self.images[1:], strict=False):
            step, _ = find_mic(after.positions - before.positions, before.cell, before.pbc)
            lengths.append(lengths[-1] + float(np.linalg.norm(step)))
        return lengths


class BatchedNEB(NEB):
    """ASE's NEB whose moving images are evaluated in one batch call before ASE reads
    them: each image's cache is filled with its own structure's results, so ASE's own
    force projection runs unchanged."""

    def __init__(self, images: list[Atoms], model: Calculator, **kwargs) -> None:
        super().__init__(images, **kwargs)
        self.model = model

    def get_forces(self) -> np.ndarray:
        # only images on the model (IDPP's interpolation puts its own calculators on them)
        stale = [
            image
            for image in self.images[1:-1]
            if isinstance(image.calc, CachedModel) and image.calc.check_state(image)
        ]
        evaluations = evaluate_batch(stale, self.model) if stale else []
        for image, evaluation in zip(stale, evaluations, strict=True):
            if evaluation.failed:
                raise ValueError(f"{evaluation.error} at image {self.images.index(image)}")
            image.calc.atoms = image.copy()
            image.calc.results = {"energy": evaluation.energy, "forces": evaluation.forces}
        return super().get_forces()


def frozen(atoms: Atoms) -> Atoms:
    """A copy of a relaxed end point that keeps its energy and forces without a model."""
    copy = atoms.copy()
    copy.calc = SinglePointCalculator(
        copy, energy=atoms.get_potential_energy(), forces=atoms.get_forces()
    )
    return copy


def climbing_image_neb(
    start: Atoms,
    end: Atoms,
    calculator: Calculator,
    *,
    n_images: int,
    optimizer: str = "BFGS",
    fmax: float = 0.05,
    steps: int = 500,
    interpolation: str = "idpp",
    context: RunContext | None = None,
    saved: State | None = None,
    checkpoint_extra: State | None = None,
) -> NEBResult:
    """Relax the path between relaxed ``start`` and ``end`` (atoms in the same order).

    ``saved`` is a checkpoint's NEB part to go on from; every checkpoint written holds
    ``checkpoint_extra`` beside it. Raises TaskFailed, naming the step, on a model error
    or a non-finite energy.
    """
    if optimizer not in NEB_OPTIMIZERS:
        raise TaskFailed(f"unknown NEB optimizer {optimizer!r}; choose from BFGS, FIRE")
    context = context or RunContext()
    images = [frozen(start)] + [start.copy() for _ in range(n_images - 2)] + [frozen(end)]
    for image in images[1:-1]:
        image.calc = CachedModel(calculator)
    if has_batch_call(calculator):
        neb = BatchedNEB(images, calculator, climb=True, method="improvedtangent")
    else:
        neb = NEB(images, climb=True, method="improvedtangent")
    opt = NEB_OPTIMIZERS[optimizer](neb, logfile=None)
    if saved is None:
        neb.interpolate(method=interpolation, mic=True)
        resumed = None
    else:
        neb.set_positions(np.array(saved["positions"], dtype=float))
        restore_optimizer(opt, saved["optimizer"])
        opt.nsteps = resumed = int(saved["step"])

    def state() -> State:
        neb_state = {
            "step": opt.nsteps,
            "positions": neb.get_positions().tolist(),
            "optimizer": optimizer_state(opt),
        }
        return {**(checkpoint_extra or {}), "step": opt.nsteps, "neb": neb_state}

    def observe() -> None:
        if neb.energies is not None and not np.all(np.isfinite(neb.energies)):
            raise TaskFailed(f"NEB: non-finite energy at step {opt.nsteps}")
        context.progress(opt.nsteps, steps)
        context.checkpoint(state)

    opt.attach(observe, interval=1)
    try:
        converged = bool(opt.run(fmax=fmax, steps=steps - opt.nsteps))
    except TaskFailed:
        raise
    except Exception as exc:  # a model that cannot go on: a recorded failure
        raise TaskFailed(f"NEB: the model failed at step {opt.nsteps}: {one_line(exc)}") from exc
    observe()  # the last step's energies are checked too
    context.progress(opt.nsteps, steps, force=True)
    return NEBResult(
        images=images,
        energies_ev=[float(e) for e in neb.energies],
        converged=converged,
        steps=int(opt.nsteps),
        resumed_from_step=resumed,
    )
