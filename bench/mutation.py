"""Mutation score per package: plant one bug at a time (mutmut) and see whether a test fails.

    .venv/bin/python bench/mutation.py compute results ranking publishing
    .venv/bin/python bench/mutation.py compute.tasks.eos      # one task folder, with tests/compute
    .venv/bin/python bench/mutation.py --report compute       # the last run's results, no run
    .venv/bin/python bench/mutation.py --sample 5 publishing  # every 5th mutant of the last run
    .venv/bin/python bench/mutation.py --survivors compute    # only what survived the last run

Each package is a set of mutant names (mutmut's ``module.x_function__mutmut_N``) and
the test paths allowed to kill them; mutmut runs only the tests that its first pass
saw call the mutated function (coverage-guided), cheapest first (tests/conftest.py).
That first pass too runs only the package's tests, so a package's run costs its own
tests once plus the mutants; tests new to mutmut's record are mapped when first seen.
Tests run on SQLite in memory; tests that need child processes are left out in
setup.cfg. The score is killed (a timeout counts as killed) over all mutants less the
equivalent ones listed, each with its reason, in bench/mutation_allow.toml.
Not in CI: a run of a package takes minutes, the four together longer.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOW_LIST = ROOT / "bench" / "mutation_allow.toml"
MUTANTS = ROOT / "mutants"
KILLED = {1, 3, 24, -24, 36, 152, 255}  # a failing test, or a timeout (mutmut's exit codes)
SURVIVED = 0


@dataclass(frozen=True)
class Package:
    mutants: tuple[str, ...]  # mutmut name globs
    tests: tuple[str, ...]  # test paths allowed to kill them


PACKAGES = {
    "compute": Package(
        (
            "compute.tasks.*",
            "compute.relaxation.*",
            "compute.md.*",
            "compute.run_context.*",
            "compute.structures.*",
            "compute.structure_sets.*",
            "compute.errors.*",
            "compute.model_spec.*",
        ),
        ("tests/compute", "tests/tasks_app/test_import_structures.py"),
    ),
    "results": Package(
        ("tasks_app.services.*", "tasks_app.evidence.*", "tasks_app.keys.*"),
        ("tests/tasks_app", "tests/leaderboard_app", "tests/models_app", "tests/publishing"),
    ),
    "ranking": Package(
        ("leaderboard_app.ranking.*", "leaderboard_app.standings.*"),
        ("tests/leaderboard_app", "tests/publishing", "tests/tasks_app/test_evidence.py"),
    ),
    "publishing": Package(
        ("publishing.export.*", "publishing.imports.*", "publishing.format.*"),
        ("tests/publishing",),
    ),
    "trust": Package(
        ("compute.trust.*", "compute.checkpoints.*"),
        (
            "tests/compute/test_trust_rules_combined.py",
            "tests/compute/test_checkpoint_files.py",
            "tests/compute/test_checkpoint_trust.py",
            "tests/models_app/test_checkpoint_trust.py",
        ),
    ),
    "registry": Package(
        ("models_app.validators.*", "models_app.services.*", "tasks_app.validators.*"),
        ("tests/models_app", "tests/tasks_app/test_import_structures.py"),
    ),
    "jobs": Package(
        ("tasks_app.selectors.*", "tasks_app.execution.*"),
        ("tests/tasks_app", "tests/leaderboard_app"),
    ),
    "tables": Package(  # the tables' and the compare page's own tests, not every page's
        ("leaderboard_app.tables.*", "leaderboard_app.compare.*"),
        tuple(
            f"tests/leaderboard_app/test_{name}.py"
            for name in (
                "tables",
                "table_cells",
                "compare_units",
                "pages",
                "kit_pages",
                "fair_board",
            )
        ),
    ),
    "input": Package(
        ("compute.bounded_input.*",),
        (
            "tests/compute/test_bounded_input.py",
            "tests/compute/test_structures.py",
            "tests/models_app/test_seed.py",
            "tests/tasks_app/test_import_structures.py",
        ),
    ),
}


def package(name: str) -> Package:
    """A package of the table, or any module prefix such as compute.tasks.eos (a new task)."""
    if name in PACKAGES:
        return PACKAGES[name]
    tests = "tests/compute" if name.startswith("compute.") else f"tests/{name.split('.')[0]}"
    return Package((f"{name}.*",), (tests,))


def run_mutmut(scope: Package, names: list[str], max_children: int) -> float:
    env = {
        **os.environ,
        "ARENA_MUTATION_TESTS": ",".join(scope.tests),
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "TEST_REDIS_URL": "",
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
    }
    mutmut = Path(sys.executable).with_name("mutmut")
    command = [str(mutmut), "run", "--max-children", str(max_children), *(names or scope.mutants)]
    MUTANTS.mkdir(exist_ok=True)
    started = time.monotonic()
    with open(MUTANTS / "run.log", "w") as log:  # mutmut's progress, for a look when in doubt
        subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return time.monotonic() - started


def all_exit_codes() -> dict[str, int | None]:
    """The last result of every mutant mutmut has made, by name."""
    found = {}
    for meta in MUTANTS.rglob("*.py.meta"):
        found |= json.loads(meta.read_text())["exit_code_by_key"]
    return found


def exit_codes(scope: Package) -> dict[str, int | None]:
    return {
        name: code
        for name, code in sorted(all_exit_codes().items())
        if any(fnmatch.fnmatch(name, pattern) for pattern in scope.mutants)
    }


def sample(scope: Package, every: int) -> list[str]:
    """Every ``every``-th mutant of ``scope`` by name; none before mutmut has made them."""
    return list(exit_codes(scope))[::every] if every > 1 else []


def survivors(scope: Package, allowed: dict[str, str]) -> list[str]:
    """Mutants of ``scope`` no test killed in the last run, less the equivalent ones.

    Running only these is enough while tests are only added: a kill stays a kill.
    """
    codes = exit_codes(scope)
    return [name for name, code in codes.items() if code not in KILLED and name not in allowed]


def report(name: str, codes: dict[str, int | None], allowed: dict[str, str], seconds: float | None):
    equivalent = [m for m in codes if m in allowed]
    counted_codes = {m: c for m, c in codes.items() if m not in allowed}
    killed = [m for m, c in counted_codes.items() if c in KILLED]
    survived = [m for m, c in counted_codes.items() if c == SURVIVED]
    untested = [m for m, c in counted_codes.items() if c not in KILLED and c != SURVIVED]
    counted = len(codes) - len(equivalent)
    score = 100.0 * len(killed) / counted if counted else 0.0
    took = f", {seconds / 60:.1f} min" if seconds is not None else ""
    print(
        f"{name}: {score:.1f}% killed ({len(killed)} of {counted}; {len(survived)} survived, "
        f"{len(untested)} not reached by its tests, {len(equivalent)} equivalent{took})"
    )
    for mutant in survived + untested:
        print(f"  {'survived' if codes[mutant] == SURVIVED else 'no test '} {mutant}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", nargs="+", help=f"{', '.join(PACKAGES)} or a module prefix")
    parser.add_argument("--report", action="store_true", help="print the last run's results")
    parser.add_argument("--sample", type=int, default=1, help="only every Nth mutant")
    parser.add_argument("--survivors", action="store_true", help="rerun only the survivors")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    allowed = tomllib.loads(ALLOW_LIST.read_text())["equivalent"]
    for name in args.packages:
        scope = package(name)
        names = survivors(scope, allowed) if args.survivors else sample(scope, args.sample)
        if args.survivors and not names:
            print(f"{name}: no survivors to run again")
        run = not args.report and (names or not args.survivors)
        seconds = run_mutmut(scope, names, args.max_children) if run else None
        codes = exit_codes(scope)
        if names and not args.survivors:
            name = f"{name} (every {args.sample}th mutant)"
            codes = {m: codes[m] for m in names if m in codes}
        report(name, codes, allowed, seconds)
    # An entry is stale only where mutmut mutated its module: the working copy may hold
    # no record of the packages not run.
    existing = all_exit_codes()
    mutated = {name.rsplit(".", 1)[0] for name in existing}
    for mutant in allowed:
        if mutant.rsplit(".", 1)[0] in mutated and mutant not in existing:
            print(f"allow list: {mutant} is no longer a mutant (its function changed); remove it")


if __name__ == "__main__":
    main()
