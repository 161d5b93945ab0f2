"""What produced a result: package versions, Python, hardware, threads, code and environment.

One function, ``provenance``, writes it for every job of every task; ``verify`` compares
a stored record with this process's own.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import platform
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from compute.calculators import FAMILIES
from compute.threads import ran_with

# Packages whose version can change a number of any task, besides the model family's own.
COMMON_PACKAGES = ("torch", "ase", "numpy", "scipy", "pymatgen", "phonopy")
ARENA_ROOT = Path(__file__).resolve().parent.parent
# Fields that differ between two honest runs of the same work: not a provenance difference
# (``batch``: how many jobs ran in the job's batched call).
PER_RUN_FIELDS = frozenset(("pid", "batch"))


def requirement_name(requirement: str) -> str:
    """``chgnet`` from ``chgnet==0.4.2``, ``mace-torch`` from ``mace-torch>=0.3.12``."""
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0]


def package_versions(names: Iterable[str]) -> dict[str, str]:
    """The installed version of each of ``names`` that is installed."""
    versions = {}
    for name in dict.fromkeys(names):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


@functools.cache
def environment_lock() -> str:
    """A hash of this environment's installed distributions, as ``pip freeze`` lists them
    (name==version, sorted); computed once per process."""
    frozen = sorted(
        f"{(d.metadata['Name'] or '').lower()}=={d.version}"
        for d in importlib.metadata.distributions()
    )
    return hashlib.sha256("\n".join(frozen).encode()).hexdigest()[:16]


@functools.cache
def arena_version() -> str:
    """The git commit of this checkout (``+dirty`` with uncommitted changes), else the
    installed package's version, else ``unknown``."""
    try:
        commit = _git("rev-parse", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return next(iter(package_versions(["mlip-arena"]).values()), "unknown")
    return f"{commit}+dirty" if dirty else commit


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=ARENA_ROOT, capture_output=True, text=True, timeout=10, check=True
    )
    return done.stdout.strip()


@functools.cache
def cpu_model() -> str:
    """The CPU's model name, as the kernel reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware(device: str) -> dict[str, Any]:
    """The CPU model, and on a CUDA device the GPU's name and the CUDA version."""
    found: dict[str, Any] = {"cpu": cpu_model()}
    torch = sys.modules.get("torch")
    if device.startswith("cuda") and torch is not None:
        index = torch.device(device).index
        found["gpu"] = torch.cuda.get_device_name(
            torch.cuda.current_device() if index is None else index
        )
        found["cuda"] = torch.version.cuda
    return found


def provenance(calculator: Any, *, family: str, environment: str) -> dict[str, Any]:
    """What a job computes with: device and threads (``ran_with``), the versions of the
    model ``family``'s packages and of COMMON_PACKAGES, Python, hardware, this code's
    version, and the worker environment's name and lock."""
    used = ran_with(calculator)
    packages = [requirement_name(r) for r in FAMILIES[family].requirements]
    return {
        **used,
        **hardware(used["device"]),
        "packages": package_versions([*packages, *COMMON_PACKAGES]),
        "python": platform.python_version(),
        "arena": arena_version(),
        "environment": environment,
        "environment_lock": environment_lock(),
    }


def provenance_differences(stored: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """``field: stored → now`` for each field (each package) that differs; a field the
    stored record lacks (written by an older version) is not a difference."""
    differences = []
    for name in sorted(set(stored) - PER_RUN_FIELDS):
        before, after = stored[name], now.get(name)
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            differences += [f"{name}.{d}" for d in provenance_differences(before, after)]
        elif before != after:
            differences.append(f"{name}: {before} → {after}")
    return differences
