"""Time to build each worker environment from scratch, and its size on disk.

Usage: .venv/bin/python bench/environments.py [ENV ...] [--root DIR] [--keep]

Builds each environment (all by default) into a fresh folder under DIR (default
var/bench-envs) with the same code as ``manage.py build_env``, so pip's cache decides
what is downloaded: run it a second time for warm-cache figures. Sizes count each
hard-linked file once. Prints one line per environment, then removes the builds
unless --keep.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compute.environments import (  # noqa: E402
    build_environment,
    directory_bytes,
    environment_names,
    environment_python,
    families_in,
)

# Printed by each environment's Python: the torch and e3nn it holds.
VERSIONS = """
import importlib.metadata as metadata
def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"
print(version("torch"), "/", version("e3nn"))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("environments", nargs="*", default=environment_names())
    parser.add_argument("--root", type=Path, default=ROOT / "var" / "bench-envs")
    parser.add_argument("--keep", action="store_true", help="keep the built environments")
    args = parser.parse_args()
    print(f"{'environment':<12}{'build s':>9}{'size GB':>9}  {'torch / e3nn':<22}families")
    for environment in args.environments:
        shutil.rmtree(args.root / environment, ignore_errors=True)
        outcome = build_environment(
            environment, root=args.root, project_dir=ROOT, force=True, log=lambda line: None
        )
        size_gb = directory_bytes(outcome.path) / 1e9
        versions = subprocess.run(
            [str(environment_python(args.root, environment)), "-c", VERSIONS],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        print(
            f"{environment:<12}{outcome.seconds:>9.0f}{size_gb:>9.2f}  {versions:<22}"
            f"{', '.join(families_in(environment))}",
            flush=True,
        )
        if not args.keep:
            shutil.rmtree(outcome.path)


if __name__ == "__main__":
    main()
