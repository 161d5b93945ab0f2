"""Map a model's plain data to an ASE calculator, once per process.

Each family is one module here with a ``load(checkpoint, *, device, **kwargs)`` function
that receives a ``compute.checkpoints.Checkpoint`` and, optionally,
``supported_numbers(calculator)``: the atomic numbers the loaded model takes. One line in
``FAMILIES`` names its pip requirements and the worker environment that has them installed.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.calculator import Calculator
from ase.data import chemical_symbols

from compute.checkpoints import Checkpoint
from compute.errors import CalculatorLoadError, NotApplicable, first_line
from compute.model_spec import ModelSpec

MAIN_ENVIRONMENT = "main"


@dataclass(frozen=True)
class Family:
    module: str
    requirements: tuple[str, ...]  # pip requirements with pins, installed in ``environment``
    environment: str = MAIN_ENVIRONMENT
    # Dependencies removed after installing: PyPI's builds of torchvision and torchaudio
    # need the CUDA torch, and nothing on the model's path imports them.
    remove: tuple[str, ...] = ()
    # A torch pin other than the project's, for packages with compiled torch extensions.
    torch: str = ""
    # The checkpoint names the family resolves itself (shipped or released versions), as a
    # regular expression; paths, URLs and hf:// files are taken besides.
    versions: str = ""
    weights: bool = True  # False: the family has no checkpoint (EMT)
    # The energy correction that puts the family's energies on its training data's scale
    # (``MP2020``: trained on Materials Project energies, as Matbench Discovery corrects).
    energy_correction: str = ""


FAMILIES: dict[str, Family] = {
    "emt": Family("compute.calculators.emt", ("ase>=3.23",), weights=False),
    "chgnet": Family(
        "compute.calculators.chgnet",
        ("chgnet==0.4.2",),
        versions=r"0\.3\.0|0\.2\.0|r2scan",
        energy_correction="MP2020",
    ),
    "sevennet": Family(
        "compute.calculators.sevennet",
        ("sevenn==0.10.4", "e3nn==0.4.4"),
        versions=r"7net-[\w.-]+|SevenNet[\w.-]*",
        energy_correction="MP2020",
    ),
    "mace": Family(
        "compute.calculators.mace",
        ("mace-torch>=0.3.12", "e3nn==0.4.4"),
        energy_correction="MP2020",
    ),
    "matgl": Family(
        "compute.calculators.matgl",
        ("matgl>=4.0,<5", "torch-geometric>=2.6"),
        versions=r"[\w.-]+-PES",
        energy_correction="MP2020",
    ),
    "ani": Family(
        "compute.calculators.ani",
        ("torchani==2.9.0",),
        versions=r"ANI1x|ANI1ccx|ANI2x|ANImbis|ANI2xr|ANI2dr|ANI1xnr",
    ),
    # Each of these needs packages that conflict with the main environment's pins.
    "orb": Family(
        "compute.calculators.orb",
        ("orb-models==0.5.5",),
        "orb",
        versions=r"orb-[\w.-]+",
        energy_correction="MP2020",
    ),
    "mattersim": Family(
        "compute.calculators.mattersim",
        ("mattersim==1.2.3",),
        "mattersim",
        remove=("torchvision", "torchaudio"),
        versions=r"MatterSim-v1\.0\.0-(1M|5M)(\.pth)?",
        energy_correction="MP2020",
    ),
    "fairchem": Family(
        "compute.calculators.fairchem",
        ("fairchem-core==2.24.0",),
        "fairchem",
        versions=r"(uma|esen)-[\w.-]+",
    ),
    "pet": Family(
        "compute.calculators.pet",
        ("upet==0.3.1",),
        "pet",
        versions=r"pet-[a-z0-9]+-(xs|s|m|l|xl)",
    ),
    "nequip": Family(
        "compute.calculators.nequip",
        ("nequip==0.19.1", "nequip-allegro==0.8.3"),
        "nequip",
        versions=r"nequip\.net:[\w./-]+:[\w.]+",
    ),
    "grace": Family(
        "compute.calculators.grace",
        ("tensorpotential==0.6.2.1",),
        "grace",
        versions=r"GRACE-[\w.-]+",
    ),
    # deepmd-kit's compiled ops are built against exactly torch 2.11 (PyPI's CUDA build).
    "deepmd": Family(
        "compute.calculators.deepmd",
        ("deepmd-kit[torch]==3.2.0",),
        "deepmd",
        torch="torch==2.11.0",
        versions=r"DPA-[\w.-]+",
    ),
}

_CACHE: dict[str, Calculator] = {}
_LOCK = threading.Lock()


def family_names() -> list[str]:
    return sorted(FAMILIES)


def pick_device(requested: str | None = None) -> str:
    """``requested`` if given, else CUDA where torch sees a GPU, else CPU."""
    if requested:
        return requested
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_calculator(
    spec: ModelSpec,
    *,
    device: str | None = None,
    cache_dir: Path | None = None,
    trusted_sources: Iterable[str] = (),
) -> Calculator:
    """Build (or reuse) the calculator for ``spec``; raises CalculatorLoadError.

    ``trusted_sources``: checkpoint prefixes (URLs, ``hf://ORG/``) whose pickles may be
    loaded without a pinned SHA-256.
    """
    if spec.family not in FAMILIES:
        raise CalculatorLoadError(
            f"model {spec.name!r}: unknown family {spec.family!r}; "
            f"known families: {', '.join(family_names())}"
        )
    device = pick_device(device)
    key = spec.cache_key(device)
    checkpoint = Checkpoint(
        spec.checkpoint,
        cache_dir or default_cache_dir(),
        pinned_sha256=spec.checkpoint_sha256,
        trusted_sources=tuple(trusted_sources),
    )
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _build(spec, checkpoint, device)
        return _CACHE[key]


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "mlip-arena"


def _build(spec: ModelSpec, checkpoint: Checkpoint, device: str) -> Calculator:
    family = FAMILIES[spec.family]
    try:
        adapter = importlib.import_module(family.module)
    except ImportError as exc:
        raise CalculatorLoadError(_missing_package_message(spec, family, exc)) from exc
    except Exception as exc:  # a broken install fails deep inside the import
        raise CalculatorLoadError(
            f"model {spec.name!r}: importing the {spec.family!r} adapter failed: {first_line(exc)}"
        ) from exc
    try:
        return adapter.load(checkpoint, device=device, **spec.calculator_kwargs)
    except CalculatorLoadError as exc:
        raise type(exc)(f"model {spec.name!r}: {exc}") from exc
    except TypeError as exc:
        raise CalculatorLoadError(
            f"model {spec.name!r}: bad calculator kwargs {spec.calculator_kwargs}: {exc}"
        ) from exc
    except Exception as exc:  # library errors from deep inside model code
        raise CalculatorLoadError(
            f"model {spec.name!r} ({spec.family}, checkpoint {spec.checkpoint!r}) "
            f"failed to load: {first_line(exc)}"
        ) from exc


def _missing_package_message(spec: ModelSpec, family: Family, exc: ImportError) -> str:
    needs = f"model {spec.name!r}: family {spec.family!r} needs {', '.join(family.requirements)}"
    if family.environment == MAIN_ENVIRONMENT:
        return f"{needs} ({exc}); install it with pip"
    return (
        f"{needs} ({exc}), which live in the worker environment {family.environment!r}: "
        f"build it with `python manage.py build_env {family.environment}` and let its workers "
        "run the model"
    )


def check_calculator(calculator: Calculator) -> str:
    """Evaluate fcc Cu, or for a model that knows no Cu a methane molecule in a box.

    Returns a one-line outcome; errors of the second try propagate.
    """
    try:
        return _evaluate("fcc Cu", bulk("Cu", "fcc", a=3.6), calculator)
    except Exception:  # organic models (ANI, MACE-OFF) have no copper
        methane = molecule("CH4", cell=[10.0, 10.0, 10.0], pbc=True)
        return _evaluate("CH4 in a 10 Å box", methane, calculator)


def _evaluate(label: str, atoms: Atoms, calculator: Calculator) -> str:
    atoms.calc = calculator
    energy = atoms.get_potential_energy()
    force = np.abs(atoms.get_forces()).max()
    if not (np.isfinite(energy) and np.isfinite(force)):
        raise CalculatorLoadError(f"{label}: non-finite energy or forces")
    return (
        f"{label} energy {energy:.4f} eV, max |F| {force:.4f} eV/Å with {type(calculator).__name__}"
    )


def parameter_count(calculator: Calculator) -> int | None:
    """Parameters of the torch modules a calculator holds (``model``, ``models``, ...);
    None for one without any (EMT)."""
    try:
        import torch
    except ImportError:
        return None
    found: dict[int, torch.nn.Parameter] = {}
    for value in vars(calculator).values():
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, torch.nn.Module):
                found |= {id(p): p for p in item.parameters()}
    return sum(p.numel() for p in found.values()) or None


def supported_numbers(spec: ModelSpec, calculator: Calculator) -> frozenset[int] | None:
    """The atomic numbers ``spec``'s loaded calculator takes; None where its adapter cannot tell."""
    adapter = importlib.import_module(FAMILIES[spec.family].module)  # imported when it loaded
    hook = getattr(adapter, "supported_numbers", None)
    return frozenset(hook(calculator)) if hook else None


def check_supported(spec: ModelSpec, calculator: Calculator, atoms: Atoms) -> None:
    """Raise NotApplicable naming the elements of ``atoms`` the model does not cover."""
    supported = supported_numbers(spec, calculator)
    outside = sorted(set(atoms.numbers.tolist()) - supported) if supported is not None else []
    if outside:
        raise NotApplicable(
            f"model {spec.name!r} does not cover {', '.join(chemical_symbols[z] for z in outside)}"
        )
