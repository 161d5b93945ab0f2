from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from compute.errors import ComputeError
from tasks_app.structure_sets import import_structures


class Command(BaseCommand):
    help = "Import structures from an extxyz, CIF, POSCAR or ASE-db file into a structure set."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--set", dest="set_name", required=True, help="Structure set name")
        parser.add_argument("--format", dest="file_format", help="ASE format name, if not guessed")

    def handle(self, *args, file: Path, set_name: str, file_format: str | None, **options):
        try:
            structure_set, touched = import_structures(
                path=file, set_name=set_name, file_format=file_format
            )
        except ComputeError as exc:
            raise CommandError(str(exc)) from exc
        total = structure_set.structures.count()
        self.stdout.write(f"set {structure_set.name}: {touched} added or changed, {total} in total")
