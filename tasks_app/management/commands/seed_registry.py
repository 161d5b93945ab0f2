from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from compute.errors import ComputeError
from models_app.services import REGISTRY_PATH as MODELS_YAML
from models_app.services import seed_models
from tasks_app.services import seed_structure_sets, seed_tasks


class Command(BaseCommand):
    help = "Create and update models (from YAML), tasks and their structure sets (from specs)."

    def add_arguments(self, parser):
        parser.add_argument("--models-yaml", type=Path, default=MODELS_YAML)
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Delete registry rows that the YAML or the task registry no longer lists",
        )

    def handle(self, *args, prune: bool, models_yaml: Path, **options):
        try:
            reports = [
                ("model", seed_models(path=models_yaml, prune=prune)),
                ("task", seed_tasks(prune=prune)),
            ]
            stored = seed_structure_sets()  # a task's reference file may be missing or bad
        except ComputeError as exc:
            raise CommandError(str(exc)) from exc
        lines = [line for kind, report in reports for line in report.lines(kind)]
        for structure_set, touched in stored:
            if touched:
                lines.append(f"stored {touched} structures in set {structure_set.name}")
        for line in lines:
            self.stdout.write(line)
        refused = [line for kind, report in reports for line in report.refusals(kind)]
        if refused:
            raise CommandError("\n".join(refused))  # one line per refused entry
        if not lines:
            self.stdout.write("registry up to date: nothing changed")
