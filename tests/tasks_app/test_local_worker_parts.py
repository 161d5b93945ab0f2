"""The local workers' parts in this process: how many workers, with how many threads,
which model each starts with, and what the command says when a real child process dies
(test_local_workers.py runs whole commands with workers; the mutation runs skip it)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest
from ase.build import bulk
from django.db import connection, transaction

from models_app.models import MLIP
from tasks_app.execution.local_workers import (
    Watch,
    default_workers,
    local_worker_count,
    rotated,
    stop,
    why_not_shared,
    worker_threads,
)
from tasks_app.models import Job, JobStatus, Task
from tasks_app.services import run_create
from tasks_app.structure_sets import store_structure_set

CORES = len(os.sched_getaffinity(0))


@pytest.fixture
def run_of_three(seeded, inline_jobs):
    """An eos run of EMT on three crystals: three queued jobs."""
    crystals = [
        (el, bulk(el, "fcc", a=a), {}) for el, a in (("Cu", 3.6), ("Al", 4.05), ("Ni", 3.5))
    ]
    structure_set, _ = store_structure_set(name="three", description="", structures=crystals)
    run, _ = run_create(
        task=Task.objects.get(slug="eos"),
        models=[MLIP.objects.get(name="EMT")],
        structure_set=structure_set,
        structures=list(structure_set.structures.all()),
    )
    return run


def test_each_worker_starts_with_its_own_model_in_turn():
    assert [rotated([7, 8, 9], i) for i in range(5)] == [
        (7, 8, 9), (8, 9, 7), (9, 7, 8), (7, 8, 9), (8, 9, 7),
    ]  # fmt: skip
    assert rotated([], 3) == ()
    assert rotated([4], 2) == (4,)


def test_workers_and_threads_default_to_the_cores_or_the_settings(settings):
    settings.ARENA_LOCAL_WORKERS, settings.ARENA_WORKER_THREADS = 0, 0
    assert default_workers() == CORES
    assert [worker_threads(n) for n in (1, CORES, 4 * CORES)] == [CORES, 1, 1]
    settings.ARENA_LOCAL_WORKERS, settings.ARENA_WORKER_THREADS = 3, 5
    assert (default_workers(), worker_threads(2)) == (3, 5)


def test_no_more_workers_than_unfinished_jobs_and_one_where_others_cannot_see_the_rows(
    run_of_three, settings
):
    settings.ARENA_LOCAL_WORKERS = 2
    in_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()
    # pytest-django holds each test of a `db` test in a transaction: no child sees it.
    reason = (
        "the database is in memory"
        if in_memory
        else "the run's rows are inside an open transaction"
    )
    assert why_not_shared() == reason
    assert local_worker_count(run=run_of_three, requested=8) == (1, f"one worker: {reason}")
    assert local_worker_count(run=run_of_three, requested=None) == (1, f"one worker: {reason}")
    assert local_worker_count(run=run_of_three, requested=1) == (1, "")
    Job.objects.filter(run=run_of_three).update(status=JobStatus.DONE)
    assert local_worker_count(run=run_of_three, requested=8) == (1, "")


@pytest.mark.django_db(transaction=True)
def test_workers_share_a_database_on_disk_outside_a_transaction(run_of_three):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the test database is in memory (mutation runs)")
    assert why_not_shared() == ""
    assert local_worker_count(run=run_of_three, requested=8) == (3, "")
    assert local_worker_count(run=run_of_three, requested=2) == (2, "")
    with transaction.atomic():
        assert why_not_shared() == "the run's rows are inside an open transaction"


def _exit_after(seconds: float, code: int) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not a handler an earlier test set here
    time.sleep(seconds)
    os._exit(code)


def test_the_command_says_which_worker_died_how_and_what_becomes_of_its_job(run_of_three, settings):
    """Four real child processes: one ends well, one exits 3 holding job 17, one is
    killed holding job 18 (its lease must run out: 3 heartbeats of 2 s), one exits 5
    holding none. Each death is said once, and the dead workers hold no job after."""
    settings.ARENA_HEARTBEAT_S = 2.0
    context = multiprocessing.get_context("fork")
    held = context.Array("q", 5, lock=False)
    held[2], held[3] = 17, 18
    outcomes = ((0.1, 0), (0.1, 3), (60, 0), (0.1, 5))
    children = [context.Process(target=_exit_after, args=o) for o in outcomes]
    for child in children:
        child.start()
    os.kill(children[2].pid, signal.SIGKILL)
    for child in children:
        child.join(10)
    job = Job.objects.filter(run=run_of_three).first()
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE)
    said, progress = [], []
    watch = Watch(run_of_three, children, held, progress.append, said.append)
    watch()
    watch()
    pids = [child.pid for child in children]
    assert said == [
        f"worker 2 (pid {pids[1]}) stopped: exit 3; job 17 goes to another worker",
        f"worker 3 (pid {pids[2]}) stopped: signal 9; job 18 goes to another worker once "
        "its lease runs out (6 s)",
        f"worker 4 (pid {pids[3]}) stopped: exit 5",
    ]
    assert list(held) == [0, 0, 0, 0, 0]
    assert progress == [1, 1]


def test_stopping_ends_live_workers_and_reaps_the_ended_ones():
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=_exit_after, args=o) for o in ((60, 0), (0.1, 4))]
    for child in children:
        child.start()
    children[1].join(10)
    started = time.monotonic()
    stop(children)
    assert time.monotonic() - started < 5  # SIGTERM, not the 30 s grace
    assert [child.exitcode for child in children] == [-signal.SIGTERM, 4]


LEAK_SCRIPT = """
import multiprocessing, os, sys
from tqdm import tqdm

def child(lock_first):
    if lock_first:
        from tasks_app.execution.spawned import _begin
        _begin()
    for _ in tqdm(range(3), disable=True):  # e3nn draws one so, building SevenNet
        pass
    os._exit(0)  # as a local worker leaves

if __name__ == "__main__":
    process = multiprocessing.get_context("spawn").Process(
        target=child, args=(sys.argv[1] == "lock",)
    )
    process.start()
    process.join()
"""


@pytest.mark.parametrize("lock_first", [False, True])
def test_a_worker_that_draws_a_progress_bar_leaks_no_semaphore(tmp_path, lock_first):
    """tqdm's default lock is a multiprocessing semaphore, which a worker's os._exit
    leaves behind: the resource tracker then warns when the command ends (as scripts/setup
    printed). The control case (no thread lock) shows the test can see the leak."""
    script = tmp_path / "leak.py"
    script.write_text(LEAK_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    done = subprocess.run(
        [sys.executable, str(script), "lock" if lock_first else "default"],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )  # fmt: skip
    assert ("leaked semaphore" in done.stderr) is not lock_first, done.stderr


@pytest.fixture
def threads_restored(monkeypatch):
    """This process's compute threads and thread variables as they were, after the test."""
    import torch

    from compute.threads import THREAD_VARIABLES, apply_threads

    for name in THREAD_VARIABLES:  # restored by monkeypatch, whatever apply_threads sets
        monkeypatch.setenv(name, os.environ.get(name, ""))
    before = torch.get_num_threads()
    yield
    apply_threads(before)


@pytest.mark.skipif(CORES < 2, reason="needs two cores to share")
def test_a_workers_job_takes_its_idle_siblings_cores_and_gives_them_back(threads_restored):
    """The heartbeat thread sees the sibling's slot of ``held`` empty, then busy; the
    model's calls in this thread run on the cores that leaves this worker."""
    import torch
    from ase import Atoms
    from ase.calculators.calculator import Calculator

    from compute.threads import follow
    from tasks_app.execution.in_process import Share, cores_while_running

    class Probe(Calculator):
        implemented_properties = ["energy"]

        def calculate(self, atoms=None, properties=("energy",), system_changes=()):
            self.results = {"energy": float(torch.get_num_threads())}

    probe = follow(Probe())

    def threads_until(wanted: int) -> int:
        for _ in range(100):  # the reports come every POLL_S, the second one counts
            probe.reset()
            seen = int(probe.get_potential_energy(Atoms("H")))
            if seen == wanted:
                break
            time.sleep(0.1)
        return seen

    share = Share(index=0, held=[11, 0], threads=1)  # this one holds job 11, its sibling none
    with cores_while_running(share):
        assert threads_until(1) == 1  # its share when the job starts
        assert threads_until(CORES) == CORES  # the sibling stays idle: its cores taken
        share.held[1] = 12  # the sibling takes a job
        assert threads_until(1) == 1
