from django.core.management.base import BaseCommand, CommandError

from arena_site.errors import ArenaError
from models_app.selectors import model_by_name
from models_app.services import model_check_in_environment


class Command(BaseCommand):
    help = "Build a model's calculator in its worker environment, evaluate one cell, record it."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Model name, e.g. CHGNet")

    def handle(self, *args, name, **options):
        try:
            ok, message = model_check_in_environment(model=model_by_name(name))
        except ArenaError as exc:
            raise CommandError(str(exc)) from exc
        if not ok:
            raise CommandError(message)
        self.stdout.write(message)
