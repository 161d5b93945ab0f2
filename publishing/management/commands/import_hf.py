from django.core.management.base import BaseCommand, CommandError

from compute.errors import ComputeError
from publishing.imports import import_dataset


class Command(BaseCommand):
    help = "Load a dataset written by export_hf, from a folder or a Hub dataset repo ORG/NAME."

    def add_arguments(self, parser):
        parser.add_argument("source", help="Export folder, or dataset repo ORG/NAME")
        parser.add_argument("--revision", help="Branch, tag or commit of the repo")

    def handle(self, *args, source, revision, **options):
        try:
            report = import_dataset(source=source, revision=revision)
        except ComputeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report.summary())
