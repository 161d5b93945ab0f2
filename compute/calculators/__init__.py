"""Map a model's plain data to an ASE calculator, once per process.

Each family is one module here with a ``load(checkpoint, *, device, cache_dir, **kwargs)``
function and, optionally, ``supported_numbers(calculator)``: the atomic numbers the
loaded model takes. Adding a family means adding one module and one line in ``FAMILIES``.
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path

from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.data import chemical_symbols

from compute.errors import CalculatorLoadError, NotApplicable, first_line
from compute.model_spec import ModelSpec

# family name -> (adapter module, pip requirement named in errors)
FAMILIES: dict[str, tuple[str, str]] = {
    "emt": ("compute.calculators.emt", "ase"),
    "chgnet": ("compute.calculators.chgnet", "chgnet"),
    "sevennet": ("compute.calculators.sevennet", "sevenn==0.10.4"),
    "mace": ("compute.calculators.mace", "mace-torch"),
    "matgl": ("compute.calculators.matgl", "matgl"),
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
    spec: ModelSpec, *, device: str | None = None, cache_dir: Path | None = None
) -> Calculator:
    """Build (or reuse) the calculator for ``spec``; raises CalculatorLoadError."""
    if spec.family not in FAMILIES:
        raise CalculatorLoadError(
            f"model {spec.name!r}: unknown family {spec.family!r}; "
            f"known families: {', '.join(family_names())}"
        )
    device = pick_device(device)
    key = spec.cache_key(device)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _build(spec, device, cache_dir or default_cache_dir())
        return _CACHE[key]


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "mlip-arena"


def _build(spec: ModelSpec, device: str, cache_dir: Path) -> Calculator:
    module_name, requirement = FAMILIES[spec.family]
    try:
        adapter = importlib.import_module(module_name)
    except ImportError as exc:
        raise CalculatorLoadError(
            f"model {spec.name!r}: family {spec.family!r} needs the package "
            f"{requirement!r} ({exc}); install it with pip"
        ) from exc
    except Exception as exc:  # a broken install fails deep inside the import
        raise CalculatorLoadError(
            f"model {spec.name!r}: importing the {spec.family!r} adapter failed: {first_line(exc)}"
        ) from exc
    try:
        return adapter.load(
            spec.checkpoint, device=device, cache_dir=cache_dir, **spec.calculator_kwargs
        )
    except CalculatorLoadError as exc:
        raise CalculatorLoadError(f"model {spec.name!r}: {exc}") from exc
    except TypeError as exc:
        raise CalculatorLoadError(
            f"model {spec.name!r}: bad calculator kwargs {spec.calculator_kwargs}: {exc}"
        ) from exc
    except Exception as exc:  # library errors from deep inside model code
        raise CalculatorLoadError(
            f"model {spec.name!r} ({spec.family}, checkpoint {spec.checkpoint!r}) "
            f"failed to load: {first_line(exc)}"
        ) from exc


def supported_numbers(spec: ModelSpec, calculator: Calculator) -> frozenset[int] | None:
    """The atomic numbers ``spec``'s loaded calculator takes; None where its adapter cannot tell."""
    adapter = importlib.import_module(FAMILIES[spec.family][0])  # imported when it loaded
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
