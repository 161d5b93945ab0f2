from django.core.management.base import BaseCommand, CommandError

from arena_site.errors import ArenaError
from tasks_app.management.commands.run_benchmark import split_names
from tasks_app.selectors import task_by_slug
from tasks_app.verification import results_to_verify, verify_result


class Command(BaseCommand):
    help = (
        "Re-run a task's stored results in this process, without overwriting them, and "
        "compare every headline number and metric within the task's tolerances; exits 1 "
        "when any differs."
    )

    def add_arguments(self, parser):
        parser.add_argument("task", help="Task slug, e.g. eos")
        parser.add_argument("--models", help="Comma-separated model names")
        parser.add_argument("--structures", help="Comma-separated structure labels, e.g. Cu,Al")
        parser.add_argument("--sample", type=int, metavar="N", help="Only N results, drawn")
        parser.add_argument("--seed", type=int, default=0, help="Seed of the --sample draw")

    def handle(self, *args, task, sample, seed, **options):
        try:
            results = results_to_verify(
                task=task_by_slug(task),
                models=split_names(options, "models"),
                structures=split_names(options, "structures"),
                sample=sample,
                seed=seed,
            )
        except ArenaError as exc:
            raise CommandError(str(exc)) from exc
        failed = 0
        for result in results:
            verdict = verify_result(result)
            failed += not verdict.agrees
            where = f"{verdict.model} {verdict.structure}"
            if verdict.error:
                line = f"{where}: could not re-run: {verdict.error}"
            elif verdict.differences:
                line = f"{where}: differs: {'; '.join(verdict.differences)}"
            else:
                line = f"{where}: agrees"
            if verdict.provenance:
                line += f" (provenance differs: {'; '.join(verdict.provenance)})"
            self.stdout.write(line)
        self.stdout.write(
            f"{task}: {len(results) - failed} of {len(results)} results reproduced, "
            f"{failed} differ or could not be re-run"
        )
        if failed:
            raise CommandError(f"{failed} of {len(results)} results not reproduced")
