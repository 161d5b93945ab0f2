from django.core.management.base import BaseCommand, CommandError

from arena_site.errors import ArenaError
from models_app.selectors import model_by_name
from models_app.services import model_approve_checkpoint


class Command(BaseCommand):
    help = (
        "Pin the SHA-256 of a model's checkpoint file as it is now, recording who approved "
        "it and when (as the admin action 'Approve checkpoint' does)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="Model name")
        parser.add_argument("--by", required=True, help="Who approves it (recorded)")

    def handle(self, *args, name: str, by: str, **options):
        if not by.strip():
            raise CommandError("--by is empty: name who approves the checkpoint")
        try:
            self.stdout.write(model_approve_checkpoint(model=model_by_name(name), approved_by=by))
        except ArenaError as exc:
            raise CommandError(str(exc)) from exc
