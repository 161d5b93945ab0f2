"""Services that write structure sets: the task specs' own (seed_registry) and imported files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from ase import Atoms
from django.db import transaction

from arena_site.errors import ArenaError
from compute.structures import atoms_to_dict, read_structures, structure_hash
from compute.tasks import reference_keys, structure_sets
from tasks_app.models import Structure, StructureSet

FORMULA_CHARS = Structure._meta.get_field("formula").max_length


def seed_structure_sets() -> list[tuple[StructureSet, int]]:
    """Store every structure set a task spec needs; returns (set, structures touched)."""
    return [
        store_structure_set(name=s.name, description=s.description, structures=s.build())
        for s in structure_sets()
    ]


def store_structure_set(
    *, name: str, description: str, structures: list[tuple[str, Atoms, dict[str, Any]]]
) -> tuple[StructureSet, int]:
    """Create or extend a set in one transaction; returns (set, structures added or changed).

    Raises ArenaError, storing nothing, for a name or label too long or empty, or a
    label that two structures share (the second would silently replace the first).
    """
    check_names(name=name, labels=[label for label, _, _ in structures])
    with transaction.atomic():
        structure_set, _ = StructureSet.objects.get_or_create(
            name=name, defaults={"description": description}
        )
        existing = {s.label: s for s in structure_set.structures.all()}
        touched, new = 0, []
        for position, (label, atoms, reference) in enumerate(structures):
            data = atoms_to_dict(atoms)
            values = {
                "position": position,
                "formula": _shortened(atoms.get_chemical_formula(), FORMULA_CHARS),
                "natoms": len(atoms),
                "atoms": data,
                "content_hash": structure_hash(data),
                "reference": reference,
            }
            current = existing.get(label)
            if current is None:  # one query for all new structures (a 972-crystal set)
                new.append(Structure(structure_set=structure_set, label=label, **values))
                continue
            if all(getattr(current, k) == v for k, v in values.items()):
                continue
            Structure.objects.filter(pk=current.pk).update(**values)
            touched += 1
        Structure.objects.bulk_create(new, batch_size=500)
    return structure_set, touched + len(new)


def structure_get_or_create(
    *, set_name: str, set_description: str, label: str, values: dict[str, Any]
) -> tuple[Structure, bool]:
    """The structure ``label`` of set ``set_name`` (created with ``set_description`` when
    missing), created from stored ``values`` (position, formula, natoms, atoms, content_hash,
    reference) when missing; True when created. An existing one is returned as it is."""
    structure_set, _ = StructureSet.objects.get_or_create(
        name=set_name, defaults={"description": set_description}
    )
    structure = structure_set.structures.filter(label=label).first()
    if structure is not None:
        return structure, False
    return Structure.objects.create(structure_set=structure_set, label=label, **values), True


def check_names(*, name: str, labels: list[str]) -> None:
    limit = StructureSet._meta.get_field("name").max_length
    if not name.strip() or len(name) > limit:
        raise ArenaError(f"a structure set name needs 1 to {limit} characters, not {len(name)}")
    limit = Structure._meta.get_field("label").max_length
    bad = [label for label in labels if not label.strip() or len(label) > limit]
    if bad:
        raise ArenaError(
            f"structure labels need 1 to {limit} characters; {len(bad)} do not, "
            f"the first has {len(bad[0])}"
        )
    repeated = sorted(label for label, n in Counter(labels).items() if n > 1)
    if repeated:
        raise ArenaError(
            f"labels {', '.join(repeated[:5])} name more than one structure; give each "
            "structure its own label (extxyz: label=... in the comment line)"
        )


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def import_structures(
    *, path: Path, set_name: str, file_format: str | None = None
) -> tuple[StructureSet, int]:
    """Import every frame of a file; a bad file imports nothing (StructureFileError), and
    no file writes a set of the task specs (seed_registry does, with their references)."""
    check_names(name=set_name, labels=[])
    if set_name in {s.name for s in structure_sets()}:
        raise ArenaError(
            f"structure set {set_name!r} belongs to the task specs (seed_registry writes it, "
            "with its references); import into a set of another name"
        )
    frames = read_structures(path, file_format)
    stem = path.stem
    structures = []
    for index, atoms in enumerate(frames):
        label = str(atoms.info.get("label") or atoms.info.get("name") or "")
        label = label or (stem if len(frames) == 1 else f"{stem}-{index}")
        reference = {k: atoms.info[k] for k in sorted(reference_keys()) if k in atoms.info}
        structures.append((label, atoms, reference))
    return store_structure_set(
        name=set_name, description=f"imported from {path.name}", structures=structures
    )
