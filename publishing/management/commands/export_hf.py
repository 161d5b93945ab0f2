from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from compute.errors import ComputeError
from publishing.export import default_export_dir, export_dataset
from publishing.push import DEFAULT_REVISION, push_dataset


class Command(BaseCommand):
    help = "Write the results as a Hugging Face dataset folder; --push uploads what changed."

    def add_arguments(self, parser):
        parser.add_argument("--repo", required=True, help="Dataset repo, ORG/NAME")
        parser.add_argument("--out", type=Path, help="Folder (default: var/hf/ORG--NAME)")
        parser.add_argument("--push", action="store_true", help="Commit changed files to the Hub")
        parser.add_argument("--revision", default=DEFAULT_REVISION, help="Branch to push to")
        parser.add_argument("--message", default="", help="Commit message")

    def handle(self, *args, repo, out, push, revision, message, **options):
        try:
            folder = out or default_export_dir(repo)
            report = export_dataset(repo_id=repo, folder=folder)
        except ComputeError as exc:
            raise CommandError(str(exc)) from exc
        changed = f"{len(report.changed)} files changed" if report.changed else "nothing changed"
        self.stdout.write(f"exported {report.total} results to {folder}: {changed}")
        if report.stale:
            self.stdout.write(f"left out {report.stale} results of older task or model versions")
        if not push:
            return
        try:
            pushed = push_dataset(
                repo_id=repo,
                folder=folder,
                message=message or report.commit_message(),
                revision=revision,
            )
        except ComputeError as exc:
            raise CommandError(str(exc)) from exc
        if pushed.committed:
            self.stdout.write(
                f"pushed {len(pushed.uploaded)} files, deleted {len(pushed.deleted)}: "
                f"{pushed.commit_url}"
            )
        else:
            self.stdout.write(f"{pushed.repo_url} ({revision}) is up to date: no commit")
