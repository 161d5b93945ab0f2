from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from compute.errors import ComputeError
from models_app.services import REGISTRY_PATH as MODELS_YAML
from models_app.services import seed_models
from tasks_app.services import REGISTRY_PATH as TASKS_YAML
from tasks_app.services import seed_delta_set, seed_tasks


class Command(BaseCommand):
    help = "Create and update models, tasks and the Delta structure set from the YAML seeds."

    def add_arguments(self, parser):
        parser.add_argument("--models-yaml", type=Path, default=MODELS_YAML)
        parser.add_argument("--tasks-yaml", type=Path, default=TASKS_YAML)
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Delete registry rows that the YAML no longer lists",
        )

    def handle(self, *args, prune: bool, models_yaml: Path, tasks_yaml: Path, **options):
        try:
            reports = [
                ("model", seed_models(path=models_yaml, prune=prune)),
                ("task", seed_tasks(path=tasks_yaml, prune=prune)),
            ]
        except ComputeError as exc:
            raise CommandError(str(exc)) from exc
        structure_set, touched = seed_delta_set()
        lines = [line for kind, report in reports for line in report.lines(kind)]
        if touched:
            lines.append(f"stored {touched} structures in set {structure_set.name}")
        for line in lines:
            self.stdout.write(line)
        if not lines:
            self.stdout.write("registry up to date: nothing changed")
        if any(report.errors for _, report in reports):
            raise CommandError("some registry entries were refused (see error lines above)")
