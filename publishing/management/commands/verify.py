"""`verify`: re-run stored results, or a published dataset's (--from-hf), and compare.

It lives in publishing, the layer above tasks_app, because --from-hf reads a dataset.
"""

from django.core.management.base import BaseCommand, CommandError

from arena_site.errors import ArenaError
from publishing.dataset_verification import published_results, verify_published
from tasks_app.management.commands.run_benchmark import split_names
from tasks_app.selectors import task_by_slug
from tasks_app.verification import Verdict, results_to_verify, verify_result


class Command(BaseCommand):
    help = (
        "Re-run a task's stored results, or a published dataset's (--from-hf), in this "
        "process without storing anything, and compare every headline number and metric "
        "within the task's tolerances; exits 1 when any differs."
    )

    def add_arguments(self, parser):
        parser.add_argument("task", nargs="?", help="Task slug, e.g. eos (all, with --from-hf)")
        parser.add_argument(
            "--from-hf", metavar="DIR|ORG/NAME", help="A dataset of export_hf, or its Hub repo"
        )
        parser.add_argument("--models", help="Comma-separated model names")
        parser.add_argument("--structures", help="Comma-separated structure labels, e.g. Cu,Al")
        parser.add_argument("--sample", type=int, metavar="N", help="Only N results, drawn")
        parser.add_argument("--seed", type=int, default=0, help="Seed of the --sample draw")

    def handle(self, *args, task, from_hf, sample, seed, **options):
        selection = {
            "models": split_names(options, "models"),
            "structures": split_names(options, "structures"),
            "sample": sample,
            "seed": seed,
        }
        try:
            if from_hf:
                chosen = published_results(
                    source=from_hf, tasks=[task] if task else None, **selection
                )
                verdicts = (
                    (f"{r.task} {r.model} {r.structure}", verify_published(r)) for r in chosen
                )
            elif task:
                chosen = results_to_verify(task=task_by_slug(task), **selection)
                verdicts = (
                    (f"{r.model.name} {r.structure.label}", verify_result(r)) for r in chosen
                )
            else:
                raise ArenaError("name a task to verify, or a dataset with --from-hf")
            failed = sum(not self.report(where, verdict) for where, verdict in verdicts)
        except ArenaError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{from_hf or task}: {len(chosen) - failed} of {len(chosen)} results reproduced, "
            f"{failed} differ or could not be re-run"
        )
        if failed:
            raise CommandError(f"{failed} of {len(chosen)} results not reproduced")

    def report(self, where: str, verdict: Verdict) -> bool:
        """Print one line for ``verdict``; whether it agrees."""
        if verdict.error:
            line = f"{where}: could not re-run: {verdict.error}"
        elif verdict.differences:
            line = f"{where}: differs: {'; '.join(verdict.differences)}"
        else:
            line = f"{where}: agrees"
        if verdict.provenance:
            line += f" (provenance differs: {'; '.join(verdict.provenance)})"
        self.stdout.write(line)
        return verdict.agrees
