"""The structures an export brings: checked against their content hash, and for the task
specs' own sets against the specs, whose references are the only ones stored."""

from __future__ import annotations

import json
from typing import Any

from arena_site.errors import ArenaError
from compute.structures import atoms_to_dict, structure_hash
from compute.tasks import structure_sets
from publishing.format import STRUCTURES_FILE, field_of
from tasks_app.models import Structure
from tasks_app.services import json_safe
from tasks_app.structure_sets import structure_get_or_create

STRUCTURE_FIELDS = ("position", "formula", "natoms", "atoms", "content_hash")


def ensure_structures(
    rows: list[dict[str, Any]],
) -> tuple[dict[tuple[str, str], Structure], int]:
    """The export's structures by (set, label), created where missing; returns them and
    how many were created. Raises ArenaError naming the structure at fault."""
    found, created = {}, 0
    spec_sets = _spec_structures({row.get("structure_set") for row in rows})
    for row in rows:
        set_name = field_of(row, "structure_set", STRUCTURES_FILE)
        label = field_of(row, "label", STRUCTURES_FILE)
        where = f"structure {label!r} of set {set_name!r}"
        values = {k: field_of(row, k, where) for k in STRUCTURE_FIELDS}
        if structure_hash(values["atoms"]) != values["content_hash"]:
            raise ArenaError(f"{where}: its atoms do not match its content_hash in the export")
        if set_name in spec_sets:
            row = {**row, "reference": _spec_reference(spec_sets[set_name], row, where)}
        structure, new = structure_get_or_create(
            set_name=set_name,
            set_description=row.get("structure_set_description", ""),
            label=label,
            values={**values, "reference": row.get("reference") or {}},
        )
        created += new
        if not new and structure.content_hash != values["content_hash"]:
            raise ArenaError(
                f"{where} has other atoms here than in the export; "
                "import into another set name or remove the local one"
            )
        found[(set_name, label)] = structure
    return found, created


def _spec_structures(set_names: set[Any]) -> dict[str, dict[str, tuple[str, Any]]]:
    """(content hash, reference) by label of the task specs' sets among ``set_names``."""
    return {
        spec.name: {
            label: (
                structure_hash(atoms_to_dict(atoms)),
                json.loads(json.dumps(json_safe(reference))),
            )
            for label, atoms, reference in spec.build()
        }
        for spec in structure_sets()
        if spec.name in set_names
    }


def _spec_reference(spec_set: dict[str, tuple[str, Any]], row: dict[str, Any], where: str) -> Any:
    """The task's own reference of a structure of its set; refuses another structure or
    another reference in the export."""
    if row["label"] not in spec_set:
        raise ArenaError(f"{where} is not in that set of the task specs; an import never adds one")
    content_hash, reference = spec_set[row["label"]]
    if row["content_hash"] != content_hash:
        raise ArenaError(f"{where} has other atoms in the export than in the task specs")
    if (row.get("reference") or {}) != reference:
        raise ArenaError(
            f"{where} has another reference in the export than the task's own; references "
            "come only from the task specs"
        )
    return reference
