"""Worker environments: one virtualenv per set of model families whose packages agree.

A family names its environment in ``compute.calculators.FAMILIES``; an environment
holds the project's core requirements plus the requirements of its families, with
torch held by the constraints file. Jobs go to a queue named after the device kind
and the environment (``gpu.fairchem``), so a worker only takes jobs it can load.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from compute.calculators import FAMILIES, MAIN_ENVIRONMENT
from compute.errors import ComputeError

CORE_REQUIREMENTS = "requirements-core.txt"
# The main environment also holds e3nn 0.4.4 and sevenn 0.10.4; the others hold torch only.
CONSTRAINTS = {MAIN_ENVIRONMENT: "constraints.txt"}
WORKER_CONSTRAINTS = "constraints-torch.txt"
STAMP_FILE = "arena-environment.json"
DEVICE_KINDS = ("gpu", "cpu")
PIP = ("-m", "pip", "install", "--quiet", "--disable-pip-version-check")


def environment_names() -> list[str]:
    return sorted({family.environment for family in FAMILIES.values()})


def families_in(environment: str) -> list[str]:
    return sorted(name for name, f in FAMILIES.items() if f.environment == environment)


def requirements_of(environment: str) -> list[str]:
    """The pip requirements of the environment's families, each once."""
    found = {r for name in families_in(environment) for r in FAMILIES[name].requirements}
    if not found:
        raise ComputeError(
            f"unknown environment {environment!r}; environments: {', '.join(environment_names())}"
        )
    return sorted(found)


def removals_of(environment: str) -> list[str]:
    return sorted({r for name in families_in(environment) for r in FAMILIES[name].remove})


def torch_pin_of(environment: str) -> str:
    """A family's own torch pin, or "" for the project's (constraints-torch.txt)."""
    pins = {FAMILIES[name].torch for name in families_in(environment)} - {""}
    if len(pins) > 1:
        raise ComputeError(f"environment {environment!r} has families with different torch pins")
    return pins.pop() if pins else ""


def queue_name(environment: str, *, gpu: bool) -> str:
    return f"{'gpu' if gpu else 'cpu'}.{environment}"


def all_queue_names() -> list[str]:
    return [
        queue_name(env, gpu=kind == "gpu") for kind in DEVICE_KINDS for env in environment_names()
    ]


def environment_of_queue(queue: str) -> str:
    return queue.split(".", 1)[-1]


def environment_python(root: Path, environment: str) -> Path:
    return root / environment / "bin" / "python"


def current_environment(root: Path) -> str:
    """The environment this interpreter belongs to: a folder under ``root``, else main."""
    prefix = Path(sys.prefix).resolve()
    return prefix.name if prefix.parent == root.resolve() else MAIN_ENVIRONMENT


def worker_command(root: Path, queue: str) -> str:
    python = environment_python(root, environment_of_queue(queue))
    return f"{python} manage.py rqworker {queue}"


def missing_worker_message(root: Path, queue: str) -> str:
    environment = environment_of_queue(queue)
    return (
        f"no worker serves queue {queue}, so its jobs wait: build the environment with "
        f"`python manage.py build_env {environment}`, then start `{worker_command(root, queue)}`"
    )


@dataclass(frozen=True)
class BuildOutcome:
    environment: str
    path: Path
    built: bool  # False: it was up to date
    seconds: float


def build_environment(
    environment: str,
    *,
    root: Path,
    project_dir: Path,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> BuildOutcome:
    """Create or update ``root/environment``; skip it when its stamp matches the inputs."""
    requirements = requirements_of(environment)
    removals = removals_of(environment)
    path = root / environment
    constraints = project_dir / CONSTRAINTS.get(environment, WORKER_CONSTRAINTS)
    if torch_pin := torch_pin_of(environment):
        constraints = path.with_name(f"{environment}-constraints.txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        constraints.write_text(f"{torch_pin}\n")
    stamp = _stamp(
        [*requirements, *(f"-{r}" for r in removals)],
        [project_dir / CORE_REQUIREMENTS, constraints],
    )
    started = time.perf_counter()
    if not force and _read_stamp(path) == stamp:
        return BuildOutcome(environment, path, False, time.perf_counter() - started)
    path.parent.mkdir(parents=True, exist_ok=True)
    python = str(environment_python(root, environment))
    log(f"creating {path}")
    _run(environment, [sys.executable, "-m", "venv", str(path)])
    log("installing torch (held by the constraints)")
    _run(environment, [python, *PIP, "-c", str(constraints), "torch"], cwd=project_dir)
    log(f"installing the core requirements and {', '.join(requirements)}")
    _run(
        environment,
        [python, *PIP, "-c", str(constraints), "-r", CORE_REQUIREMENTS, *requirements],
        cwd=project_dir,
    )
    if removals:
        log(f"removing {', '.join(removals)}")
        _run(environment, [python, "-m", "pip", "uninstall", "--quiet", "--yes", *removals])
    (path / STAMP_FILE).write_text(json.dumps(stamp, indent=1))
    return BuildOutcome(environment, path, True, time.perf_counter() - started)


def directory_bytes(path: Path) -> int:
    """Disk use of a folder's files, each hard-linked file counted once."""
    seen: set[int] = set()
    total = 0
    for file in path.rglob("*"):
        info = file.lstat()
        if file.is_file() and not file.is_symlink() and info.st_ino not in seen:
            seen.add(info.st_ino)
            total += info.st_blocks * 512
    return total


def _stamp(requirements: list[str], files: list[Path]) -> dict:
    return {
        "python": sys.version.split()[0],
        "requirements": requirements,
        "files": {f.name: f.read_text() for f in files},
    }


def _read_stamp(path: Path) -> dict | None:
    try:
        return json.loads((path / STAMP_FILE).read_text())
    except (OSError, ValueError):
        return None


def _run(environment: str, command: list[str], cwd: Path | None = None) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit status {done.returncode}"
        raise ComputeError(f"building environment {environment!r} failed: {reason}")
