from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from compute.environments import (
    BuildOutcome,
    build_environment,
    environment_names,
    families_in,
    queue_name,
    worker_command,
)
from compute.errors import ComputeError


class Command(BaseCommand):
    help = (
        "Build worker environments for their model families and say how to start their "
        "workers; --jobs builds several at once (pip waits on downloads more than on cores)."
    )

    def add_arguments(self, parser):
        parser.add_argument("environments", nargs="+", choices=environment_names())
        parser.add_argument("--force", action="store_true", help="Rebuild even if up to date")
        parser.add_argument(
            "--jobs", type=int, default=1, help="Environments built at once (default 1)"
        )

    def handle(self, *args, environments, force, jobs, **options):
        if jobs < 1:
            raise CommandError(f"--jobs must be at least 1, not {jobs}")
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            outcomes = list(pool.map(lambda env: self.build(env, force=force), environments))
        failures = [outcome for outcome in outcomes if isinstance(outcome, str)]
        for outcome in outcomes:
            if isinstance(outcome, BuildOutcome):
                self.report(outcome)
        if failures:
            raise CommandError("; ".join(failures))

    def build(self, environment: str, *, force: bool) -> BuildOutcome | str:
        try:
            return build_environment(
                environment,
                root=settings.ARENA_ENVS_DIR,
                project_dir=settings.BASE_DIR,
                force=force,
                log=lambda line: self.stderr.write(f"[{environment}] {line}"),
            )
        except ComputeError as exc:
            return str(exc)

    def report(self, outcome: BuildOutcome) -> None:
        environment = outcome.environment
        state = f"built in {outcome.seconds:.0f} s" if outcome.built else "up to date"
        self.stdout.write(
            f"environment {environment} ({', '.join(families_in(environment))}) at "
            f"{outcome.path}: {state}"
        )
        for gpu, where in ((True, "GPU nodes"), (False, "CPU nodes")):
            command = worker_command(settings.ARENA_ENVS_DIR, queue_name(environment, gpu=gpu))
            self.stdout.write(f"start its workers on {where}: {command}")
