"""The on-disk format of an export: file layout, JSON Lines rows, flattened dict fields.

    README.md                  dataset card; its YAML declares every file below as a config
    data/<task>.jsonl          every current result of a task, with its metrics and curves
    leaderboard/<task>.jsonl   per model: metric means, deviations and ranks
    leaderboard/arena.jsonl    the arena rank from the task ranks
    registry/*.jsonl           the models, tasks and structures the results need (import_hf)

One JSON object a line, keys sorted, floats in Python's shortest repr, no NaN.

Format versions (the card's ``mlip_arena.format_version``): 1 kept the EOS headline
numbers as top-level columns of every result row; 2 keeps any task's headline
numbers as ``headline.KEY`` columns. import_hf reads both.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import yaml

from arena_site.errors import ArenaError
from compute.bounded_input import InputTooLarge, safe_yaml
from compute.errors import one_line
from tasks_app.services import json_safe

CARD = "README.md"
DATA_DIR, LEADERBOARD_DIR, REGISTRY_DIR = "data", "leaderboard", "registry"
MODELS_FILE = f"{REGISTRY_DIR}/models.jsonl"
TASKS_FILE = f"{REGISTRY_DIR}/tasks.jsonl"
STRUCTURES_FILE = f"{REGISTRY_DIR}/structures.jsonl"
ARENA_FILE = f"{LEADERBOARD_DIR}/arena.jsonl"
MANAGED_DIRS = (DATA_DIR, LEADERBOARD_DIR, REGISTRY_DIR)
# The dict fields of each kind of row, written as ``field.key`` columns (see flat_row).
RESULT_DICTS = ("params", "headline", "metrics", "output", "provenance")
MODEL_DICTS = ("calculator_kwargs",)
TASK_DICTS = ("default_params",)
STRUCTURE_DICTS = ("atoms", "reference")
FORMAT_VERSION = 2
# The fields of a version 1 result row; any other top-level number was a headline number.
V1_RESULT_FIELDS = frozenset(
    ("key", "model", "task", "task_version", "structure_set", "structure", "formula", "natoms",
     "structure_hash", "params", "metrics", "output", "compute_seconds")
)  # fmt: skip
# Hub repo ids are ASCII; fullmatch, as $ would also take a trailing newline.
REPO_ID = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def card_metadata(text: str) -> dict[str, Any]:
    """The YAML front matter of a dataset card, or {} when it has none."""
    if not text.startswith("---\n"):
        return {}
    front, _, _ = text[4:].partition("\n---")
    try:
        metadata = safe_yaml(front, where="the dataset card")
    except InputTooLarge as exc:
        raise ArenaError(str(exc)) from exc
    except yaml.YAMLError as exc:
        raise ArenaError(f"the dataset card's YAML cannot be read: {one_line(exc)}") from exc
    return metadata if isinstance(metadata, dict) else {}


def format_version(metadata: dict[str, Any]) -> int:
    """The export format a card declares; cards of format 1 declared none."""
    arena = metadata.get("mlip_arena")
    version = arena.get("format_version", 1) if isinstance(arena, dict) else 1
    if version not in (1, FORMAT_VERSION):
        raise ArenaError(
            f"export format {version!r} is not known here (this arena reads 1 and "
            f"{FORMAT_VERSION}); update the arena to import it"
        )
    return version


def check_repo_id(repo_id: str) -> str:
    if not REPO_ID.fullmatch(repo_id or ""):
        raise ArenaError(f"bad dataset repo {repo_id!r}; write ORG/NAME, e.g. my-lab/mlip-arena")
    return repo_id


def data_path(slug: str) -> str:
    return f"{DATA_DIR}/{slug}.jsonl"


def board_path(slug: str) -> str:
    return f"{LEADERBOARD_DIR}/{slug}.jsonl"


def flat_row(row: dict[str, Any]) -> dict[str, Any]:
    """Dict fields become top-level columns named ``field.key``.

    `datasets` reads a nested dict whose keys differ between rows (metrics without a
    reference, say) through pandas' JSON codec, which keeps only 10 decimals of every
    float in the file; top-level columns that come and go are read exactly.
    """
    flat: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, dict):
            flat |= {f"{name}.{key}": item for key, item in value.items()}
        else:
            flat[name] = value
    return flat


def portable_provenance(ran_with: dict[str, Any]) -> dict[str, Any]:
    """A job's provenance (``Job.ran_with``) as one flat dict: ``packages.NAME`` keys, no
    process id (it means nothing on another machine)."""
    flat: dict[str, Any] = {}
    for name, value in ran_with.items():
        if isinstance(value, dict):
            flat |= {f"{name}.{key}": item for key, item in value.items()}
        elif name != "pid":
            flat[name] = value
    return flat


def stored_provenance(portable: dict[str, Any]) -> dict[str, Any]:
    """Undo ``portable_provenance``; values other than text, numbers and null are dropped."""
    stored: dict[str, Any] = {}
    for name, value in portable.items():
        if not (value is None or isinstance(value, str | int | float)):
            continue
        field_name, dot, key = str(name).partition(".")
        if dot:
            stored.setdefault(field_name, {})[key] = value
        else:
            stored[field_name] = value
    return stored


def nested_row(row: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """Undo ``flat_row`` for the dict ``fields`` of a file (an empty dict leaves no column)."""
    nested: dict[str, Any] = {name: {} for name in fields}
    for name, value in row.items():
        field_name, dot, key = name.partition(".")
        if dot and field_name in nested:
            nested[field_name][key] = value
        elif name in nested:
            nested[name].update(value)  # a dict field written whole
        else:
            nested[name] = value
    return nested


def jsonl(rows: list[dict[str, Any]]) -> bytes:
    lines = (
        json.dumps(
            json_safe(flat_row(row)),
            sort_keys=True,
            ensure_ascii=False,
            allow_nan=False,
            separators=(",", ":"),
        )
        for row in rows
    )
    return "".join(f"{line}\n" for line in lines).encode()


def field_of(row: dict[str, Any], name: str, where: str) -> Any:
    """``row[name]``; raises ArenaError naming ``where`` when the row lacks it."""
    if name not in row:
        raise ArenaError(f"{where}: the row has no {name!r}; is this an export of export_hf?")
    return row[name]


def read_jsonl(
    folder: Path, where: str, dict_fields: tuple[str, ...]
) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) for each line of the file ``where`` in ``folder``.

    Raises ArenaError naming the file and line at fault.
    """
    try:
        lines = (folder / where).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ArenaError(f"cannot read {where} in {folder}: {one_line(exc)}") from exc
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line, parse_constant=_refuse_constant, parse_float=_finite_float)
        except json.JSONDecodeError as exc:
            raise ArenaError(f"{where}:{number} is not JSON ({exc.msg})") from exc
        except ValueError as exc:
            raise ArenaError(
                f"{where}:{number}: {exc}; an export holds finite numbers or null"
            ) from exc
        if not isinstance(row, dict):
            raise ArenaError(f"{where}:{number} is not a JSON object")
        for name in dict_fields:
            if name in row and not isinstance(row[name], dict):
                kind = type(row[name]).__name__
                raise ArenaError(f"{where}:{number}: {name} must be a JSON object, not {kind}")
        rows.append((number, nested_row(row, dict_fields)))
    return rows


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def write_folder(folder: Path, files: dict[str, bytes]) -> list[str]:
    """Write ``files`` under ``folder``, delete managed files no longer exported; return changes."""
    if folder.exists() and not folder.is_dir():
        raise ArenaError(f"{folder} is a file; give --out a folder")
    changed = []
    for path in managed_files(folder):
        if path not in files:
            (folder / path).unlink()
            changed.append(path)
    for path, content in files.items():
        target = folder / path
        if target.is_file() and target.read_bytes() == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        changed.append(path)
    return sorted(changed)


def managed_files(folder: Path) -> list[str]:
    """The files of an export under ``folder``, as relative POSIX paths; others are ignored."""
    found = [CARD] if (folder / CARD).is_file() else []
    for name in MANAGED_DIRS:
        found += [p.relative_to(folder).as_posix() for p in (folder / name).glob("*.jsonl")]
    return sorted(found)


def is_managed(path: str) -> bool:
    head, _, tail = path.partition("/")
    return path == CARD or (head in MANAGED_DIRS and "/" not in tail and tail.endswith(".jsonl"))
