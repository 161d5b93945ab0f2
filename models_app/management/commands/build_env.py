from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from compute.environments import (
    build_environment,
    environment_names,
    families_in,
    queue_name,
    worker_command,
)
from compute.errors import ComputeError


class Command(BaseCommand):
    help = "Build a worker environment for its model families and say how to start its workers."

    def add_arguments(self, parser):
        parser.add_argument("environment", choices=environment_names())
        parser.add_argument("--force", action="store_true", help="Rebuild even if up to date")

    def handle(self, *args, environment, force, **options):
        try:
            outcome = build_environment(
                environment,
                root=settings.ARENA_ENVS_DIR,
                project_dir=settings.BASE_DIR,
                force=force,
                log=self.stderr.write,
            )
        except ComputeError as exc:
            raise CommandError(str(exc)) from exc
        state = f"built in {outcome.seconds:.0f} s" if outcome.built else "up to date"
        self.stdout.write(
            f"environment {environment} ({', '.join(families_in(environment))}) at "
            f"{outcome.path}: {state}"
        )
        for gpu, where in ((True, "GPU nodes"), (False, "CPU nodes")):
            command = worker_command(settings.ARENA_ENVS_DIR, queue_name(environment, gpu=gpu))
            self.stdout.write(f"start its workers on {where}: {command}")
