import dataclasses
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from compute.environments import current_environment, environment_python, queue_name
from compute.errors import ComputeError
from tasks_app.execution.launch import WorkerJob, batch_script, cancel, redacted, running, submit


class Command(BaseCommand):
    help = "Start RQ workers as SLURM or PBS batch jobs (submit), list them, or stop them."

    def add_arguments(self, parser):
        cluster = settings.ARENA_CLUSTER
        parser.add_argument("action", choices=["submit", "list", "stop"])
        parser.add_argument("ids", nargs="*", help="stop: job ids (default: all of --name)")
        parser.add_argument("--scheduler", default=cluster["scheduler"], help="slurm or pbs")
        parser.add_argument("--name", default="arena-workers", help="Batch job name")
        parser.add_argument("--env", default="main", help="Worker environment (build_env NAME)")
        parser.add_argument(
            "--queues", help="Queues the workers take (default: cpu.ENV, or gpu.ENV with GPUs)"
        )
        parser.add_argument("--nodes", type=int, default=1, help="Nodes (an array job if > 1)")
        parser.add_argument("--workers-per-node", type=int, default=1)
        parser.add_argument("--cpus-per-worker", type=int, default=1)
        parser.add_argument("--gpus-per-worker", type=int, default=0)
        parser.add_argument("--time", default=cluster["time"], help="Wall time, HH:MM:SS")
        parser.add_argument("--partition", default=cluster["partition"], help="Partition/queue")
        parser.add_argument("--account", default=cluster["account"])
        parser.add_argument("--prologue", default=cluster["prologue"], help="e.g. module load cuda")
        parser.add_argument("--python", help="Worker python (default: the environment's)")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the script, submit nothing"
        )

    def handle(self, *args, action, ids, scheduler, name, **options):
        try:
            if action == "submit":
                self.submit(scheduler, name, options)
            elif action == "list":
                jobs = running(scheduler, name)
                for job in jobs:
                    self.stdout.write(f"{job.id}  {job.state}  {job.detail}".rstrip())
                if not jobs:
                    self.stdout.write(f"no {scheduler} jobs named {name}")
            else:
                stopped = cancel(scheduler, name, ids)
                self.stdout.write(
                    f"cancelled {', '.join(stopped)}" if stopped else "nothing to stop"
                )
        except ComputeError as exc:
            raise CommandError(str(exc)) from exc

    def submit(self, scheduler: str, name: str, options: dict) -> None:
        env, root = options["env"], settings.ARENA_ENVS_DIR
        queues = options["queues"] or queue_name(env, gpu=options["gpus_per_worker"] > 0)
        python = options["python"] or (
            sys.executable
            if env == current_environment(root)
            else str(environment_python(root, env))
        )
        job = WorkerJob(
            scheduler=scheduler,
            name=name,
            queues=tuple(q.strip() for q in queues.split(",") if q.strip()),
            python=python,
            project_dir=settings.BASE_DIR,
            log_dir=Path(settings.VAR_DIR) / "cluster",
            environment=settings.ARENA_WORKER_ENVIRONMENT,
            nodes=options["nodes"],
            workers_per_node=options["workers_per_node"],
            cpus_per_worker=options["cpus_per_worker"],
            gpus_per_worker=options["gpus_per_worker"],
            time=options["time"],
            partition=options["partition"],
            account=options["account"],
            prologue=options["prologue"],
        )
        if options["dry_run"]:
            shown = dataclasses.replace(job, environment=redacted(job.environment))
            self.stdout.write(batch_script(shown), ending="")
            return
        job_id, path = submit(job)
        workers = job.nodes * job.workers_per_node
        self.stdout.write(
            f"submitted {scheduler} job {job_id}: {workers} worker(s) on {','.join(job.queues)} "
            f"({path}); follow them with: manage.py launch_workers list --scheduler {scheduler}"
        )
