"""Malformed input, table-driven: each case is a real ``manage.py`` process that must
print one line (no traceback), exit non-zero and write nothing."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from ase.build import bulk
from ase.io import write

from tests.conftest import ROOT
from tests.faults.conftest import SET
from tests.faults.harness import arena_env

# A command process per case (minutes): with the process faults, out of the default suite.
pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]
TOO_LONG = "x" * 101  # every name and label column holds 100 characters


@dataclass(frozen=True)
class Case:
    name: str
    args: Callable[[Path], list[str]]  # the command line, given a scratch folder
    says: str  # a piece of the one line it must print


def registry(models: object) -> Callable[[Path], list[str]]:
    """seed_registry on a YAML file whose ``models`` are ``models``."""

    def args(folder: Path) -> list[str]:
        path = folder / "registry.yaml"
        path.write_text(yaml.safe_dump({"models": models}) if models is not None else "- a\n")
        return ["seed_registry", "--models-yaml", str(path)]

    return args


def model(**fields: object) -> list[dict]:
    return [{"name": "Bad", "family": "emt", **fields}]


def structures(frames: list[tuple[str, float]], set_name: str = "new") -> Callable:
    """import_structures of Cu cells labelled and placed as given (label, x of an atom)."""

    def args(folder: Path) -> list[str]:
        atoms_list = []
        for label, x in frames:
            atoms = bulk("Cu", "fcc", a=3.6)
            atoms.positions[0, 0] = x
            atoms.info["label"] = label
            atoms_list.append(atoms)
        path = folder / "new.xyz"
        write(path, atoms_list, format="extxyz")
        return ["import_structures", str(path), "--set", set_name]

    return args


def tampered(where: str, change: Callable[[dict], None]) -> Callable[[Path], list[str]]:
    """import_hf of the export with the first row of ``where`` changed."""

    def args(folder: Path) -> list[str]:
        copy = folder / "export"
        shutil.copytree(folder.parent / "export", copy)
        lines = (copy / where).read_text().splitlines()
        row = json.loads(lines[0])
        change(row)
        (copy / where).write_text("\n".join([json.dumps(row), *lines[1:]]) + "\n")
        return ["import_hf", str(copy)]

    return args


def structure_file(text: str, set_name: str = "new") -> Callable[[Path], list[str]]:
    """import_structures of an extxyz file of ``text``."""

    def args(folder: Path) -> list[str]:
        path = folder / "new.xyz"
        path.write_text(text)
        return ["import_structures", str(path), "--set", set_name]

    return args


def raw_registry(text: str) -> Callable[[Path], list[str]]:
    def args(folder: Path) -> list[str]:
        path = folder / "registry.yaml"
        path.write_text(text)
        return ["seed_registry", "--models-yaml", str(path)]

    return args


CELL = 'Lattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 pbc="T T T"'
ALIAS_BOMB = "a0: &a0 [x]\n" + "".join(
    f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 10)
)


def set_first_metric(row: dict) -> None:
    key = next(k for k in sorted(row) if k.startswith("metrics."))
    row[key] = "abc"


def run(*args: str) -> Callable[[Path], list[str]]:
    return lambda folder: ["run_benchmark", *args]


CASES = [
    Case("name is a number", registry(model(name=123)), "name must be text, not int"),
    Case("name is a list", registry(model(name=["a", "b"])), "name must be text, not list"),
    Case("name too long", registry(model(name=TOO_LONG)), "at most 100 characters"),
    Case("name with a comma", registry(model(name="A,B")), "has a comma"),
    Case("kwargs a list", registry(model(calculator_kwargs=[1])), "must be a JSON object"),
    Case(
        "kwargs not JSON",
        registry(model(calculator_kwargs={"since": datetime.date(2024, 1, 1)})),
        "Value must be valid JSON",
    ),
    Case("kwargs NaN", registry(model(calculator_kwargs={"x": float("nan")})), "only JSON"),
    Case("datasets as text", registry(model(training_datasets="MPtrj")), "JSON list of names"),
    Case("unknown task", registry(model(cpu_tasks=["eos", "kappa"])), "unknown task(s) kappa"),
    Case("license a list", registry(model(license=["MIT"])), "license must be str, not list"),
    Case("flag as text", registry(model(enabled="maybe")), "enabled must be bool, not str"),
    Case("no models list", registry(None), "needs a top-level list named 'models'"),
    Case("set name too long", structures([("a", 0.0)], TOO_LONG), "1 to 100 characters, not 101"),
    Case("empty set name", structures([("a", 0.0)], ""), "1 to 100 characters, not 0"),
    Case("label too long", structures([(TOO_LONG, 0.0)]), "the first has 101"),
    Case("coordinates of 1e300", structures([("a", 1e300)]), "beyond 100000 Å"),
    Case("repeated label", structures([("a", 0.0), ("b", 0.0), ("a", 0.1)]), "labels a name more"),
    Case(
        "YAML alias bomb",
        raw_registry(ALIAS_BOMB + "models: [{name: B, family: emt, calculator_kwargs: {x: *a9}}]"),
        "expands to more than 100000 values",
    ),
    Case(
        "a pin in the seed",
        registry(model(checkpoint_sha256="0" * 64)),
        "checkpoint_sha256 is pinned only by an admin's 'Approve checkpoint'",
    ),
    Case(
        "10¹² atoms claimed",
        structure_file(f"1000000000000\n{CELL}\nCu 0 0 0\n"),
        "frame 1 claims 1000000000000 atoms; the limit is 100000",
    ),
    Case(
        "overlapping atoms",
        structure_file(f"2\n{CELL}\nCu 0 0 0\nCu 0.1 0 0\n"),
        "frame 1: atoms 0 and 1 are 0.100 Å apart",
    ),
    Case(
        "a dummy atom",
        structure_file(f"2\n{CELL}\nCu 0 0 0\nX 2 2 2\n"),
        "frame 1: atom 1 is a dummy atom (X)",
    ),
    Case(
        "a cell of NaN",
        structure_file(f"1\n{CELL.replace('4 0 0 0 4', 'nan 0 0 0 4', 1)}\nCu 0 0 0\n"),
        "frame 1 has a non-finite cell",
    ),
    Case(
        "a task's own set",
        structures([("Cu", 0.0)], "delta-dcdft"),
        "structure set 'delta-dcdft' belongs to the task specs",
    ),
    Case("--param fmax=NaN", run("relax", "--param", "fmax=NaN"), "fmax must be finite, not nan"),
    Case("--param fmax=1e400", run("relax", "--param", "fmax=1e400"), "fmax must be finite"),
    Case("--param fmax=-1", run("relax", "--param", "fmax=-1"), "fmax must be > 0, not -1"),
    Case("--param steps=-5", run("relax", "--param", "steps=-5"), "steps must be >= 1, not -5"),
    Case("--param npoints=0", run("eos", "--param", "npoints=0"), "npoints must be >= 5, not 0"),
    Case(
        "volume factors crossed",
        run("eos", "--param", "min_volume_factor=1.2", "--param", "max_volume_factor=0.8"),
        "min_volume_factor must be > 0 and < 1, not 1.2",
    ),
    Case("--timeout -1", run("ev", "--timeout", "-1"), "--timeout must be a number of seconds"),
    Case("--timeout nan", run("ev", "--timeout", "nan"), "above 0, not nan"),
    Case("--variant ''", run("nve", "--variant", ""), "--variant is empty"),
    Case("--set ''", run("ev", "--set", ""), "--set is empty"),
    Case("--limit 0", run("ev", "--limit", "0"), "--limit must be at least 1, not 0"),
    Case("--limit -1", run("ev", "--limit", "-1"), "--limit must be at least 1, not -1"),
    Case("--models ''", run("ev", "--models", ""), "--models is empty"),
    Case("--structures ''", run("ev", "--structures", ""), "--structures is empty"),
    Case("unknown model", run("ev", "--models", "EMT,Nope"), "unknown model(s) Nope"),
    Case("unknown task name", run("kappa"), "unknown task 'kappa'"),
    Case("no task", run(), "name a task (e.g. eos), or --resume RUN"),
    Case("unknown run", run("--resume", "999"), "no run 999; the latest is run"),
    Case("resume and a task", run("ev", "--resume", "1"), "drop task"),
    Case(
        "metrics as text",
        tampered("data/ev.jsonl", lambda row: row.update(metrics="x")),
        "data/ev.jsonl:1: metrics must be a JSON object, not str",
    ),
    Case(
        "a metric as text",
        tampered("data/ev.jsonl", set_first_metric),
        "must be a number or null, not 'abc'",
    ),
    Case(
        "headline as text",
        tampered("data/ev.jsonl", lambda row: row.update(headline="x")),
        "headline must be a JSON object, not str",
    ),
    Case(
        "a parameter as text",
        tampered("data/ev.jsonl", lambda row: row.update({"params.npoints": "many"})),
        "npoints must be a whole number, not 'many'",
    ),
    Case(
        "default params a list",
        tampered("registry/tasks.jsonl", lambda row: row.update(default_params=[1])),
        "default_params must be a JSON object, not list",
    ),
    Case(
        "NaN in an export",
        tampered("data/ev.jsonl", lambda row: row.update({"metrics.tortuosity": float("nan")})),
        "data/ev.jsonl:1: NaN is not a finite number",
    ),
    Case(
        "model name a number",
        tampered("registry/models.jsonl", lambda row: row.update(name=5)),
        "name must be text, not int",
    ),
]


@pytest.fixture
def exported(database_url, tmp_path, inline_jobs) -> dict[str, str]:
    """The registry seeded, one E–V result stored and exported; the processes' env."""
    from django.core.management import call_command

    from publishing.export import export_dataset

    call_command("seed_registry")
    call_command("run_benchmark", "ev", models="EMT", set_name=SET, structures="Cu256-0")
    export_dataset(repo_id="arena-test/faults", folder=tmp_path / "export")
    return arena_env(database_url)


def row_counts() -> dict[str, int]:
    from models_app.models import MLIP
    from tasks_app.models import BenchmarkRun, Job, Result, Structure, StructureSet, Task

    tables = (MLIP, Task, StructureSet, Structure, BenchmarkRun, Job, Result)
    return {table.__name__: table.objects.count() for table in tables}


def test_each_malformed_input_is_one_line_exits_non_zero_and_writes_nothing(exported, tmp_path):
    before = row_counts()
    wrong = []
    for index, case in enumerate(CASES):
        problem = attempt(index, case, tmp_path, exported)
        if row_counts() != before:
            problem += f" {case.name} wrote rows: {row_counts()} (before: {before})"
        if problem:
            wrong.append(problem)
    assert not wrong, "\n".join(wrong)


def attempt(index: int, case: Case, tmp_path: Path, env: dict[str, str]) -> str:
    """What is wrong with how ``case`` was refused; empty when nothing is."""
    folder = tmp_path / f"case-{index}"
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *case.args(folder)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    one_line = len(lines) == 1 and lines[0].startswith("CommandError: ")
    if done.returncode == 0 or not one_line or case.says not in lines[0]:
        return f"{case.name}: exit {done.returncode}, said {lines[-5:]}"
    return ""
