"""Server time, query count and weight of every leaderboard page, 20 models × 71 structures.

Usage:
    DATABASE_URL=postgres://USER@HOST:PORT/NAME .venv/bin/python bench/leaderboard_pages.py [--keep]

Creates a scratch PostgreSQL database NAME_leaderboard_bench next to NAME (dropping an
earlier one), fills it through the services with synthetic EOS results (Birch–Murnaghan
curves around the WIEN2k references, with per-model errors and a few failed jobs), then:

1. requests each page 50 times with Django's test Client and prints the median and p95
   server time and the query count (goal: every p95 under 150 ms), after the start-up
   heap is frozen as a web worker's is (``arena_site.heap.settle``);
2. runs the Procfile's release and web processes (gunicorn, 4 workers, ARENA_PRODUCTION=1)
   and has 4 concurrent clients request each page 25 times each: median and p95 latency
   as a client sees it (clients and server share this machine's cores), requests/s;
3. prints the bytes a browser transfers for each page with its scripts and styles
   (Accept-Encoding: gzip, deflate, br): on a first load with an empty cache, and on a
   repeat load that honours the cache headers (fresh files are not fetched again;
   others are revalidated when they carry an ETag or Last-Modified). Goal for a task
   page: under 1 MB first, under 100 KB after.

``--keep`` leaves the database for a look with ``runserver``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODELS = 20
REQUESTS = 50
WARMUP = 3
FAILED_FRACTION = 0.03
GOAL_MS = 150.0
CLIENTS = 4
REQUESTS_PER_CLIENT = 25
GUNICORN_WORKERS = 4
FIRST_LOAD_GOAL_KB = 1000
REPEAT_LOAD_GOAL_KB = 100
# What a browser loads with a page: its scripts and style sheets.
ASSET = re.compile(r'<(?:script[^>]*\ssrc|link[^>]*rel="stylesheet"[^>]*\shref)="([^"]+)"')


def scratch_database(url: str, suffix: str = "leaderboard_bench") -> str:
    """Create an empty NAME_SUFFIX on the server of ``url``; return its URL."""
    import dj_database_url

    config = dj_database_url.parse(url)
    if not config["ENGINE"].endswith("postgresql"):
        sys.exit(
            "DATABASE_URL must point at PostgreSQL, e.g. postgres://postgres@127.0.0.1:5432/arena"
        )
    name = f"{config['NAME']}_{suffix}"
    with server_connection(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{url.rsplit('/', 1)[0]}/{name}"


def server_connection(url: str):
    """An autocommit connection to the server's ``postgres`` database."""
    import psycopg

    return psycopg.connect(f"{url.rsplit('/', 1)[0]}/postgres", autocommit=True)


def synthetic_eos(reference: dict, natoms: int, rng, skill: float) -> dict:
    """A 21-point E(V) scan from a Birch–Murnaghan curve with the model's errors, fitted."""
    import numpy as np
    from ase.units import GPa

    from compute.tasks.eos.birch_murnaghan import fit_birch_murnaghan

    v0 = reference["v0_a3_per_atom"] * (1 + rng.normal(0, 0.03 * skill))
    b0 = reference["b0_gpa"] * (1 + rng.normal(0, 0.15 * skill))
    bp = reference["b0_prime"] + rng.normal(0, 0.5 * skill)
    volumes = np.linspace(0.8, 1.2, 21) * v0 * natoms
    eta = (v0 * natoms / volumes) ** (2 / 3) - 1
    energies = 9 * v0 * natoms * b0 * GPa / 16 * (eta**3 * bp + eta**2 * (6 - 4 * (eta + 1)))
    energies = energies - 4.0 * natoms + rng.normal(0, 2e-4 * skill * natoms, len(volumes))
    fit = fit_birch_murnaghan(volumes, energies)
    return {
        "natoms": natoms,
        "volumes_a3": volumes.tolist(),
        "energies_ev": energies.tolist(),
        "v0_a3_per_atom": fit.v0_a3 / natoms,
        "e0_ev_per_atom": fit.e0_ev / natoms,
        "b0_gpa": fit.b0_gpa,
        "b0_prime": fit.b0_prime,
        "fit_residual": fit.residual,
    }


def fill() -> dict:
    """Registry, 20 models, one EOS run over the 71 Delta structures; returns page ids."""
    import numpy as np

    from compute.errors import TaskFailed
    from compute.structure_sets.delta import DELTA_SET
    from compute.tasks import evaluate
    from models_app.models import MLIP
    from models_app.services import seed_models
    from tasks_app.models import StructureSet, Task
    from tasks_app.services import (
        job_fail,
        job_finish,
        job_start,
        run_create,
        seed_tasks,
    )
    from tasks_app.structure_sets import seed_structure_sets

    seed_models()
    seed_tasks()
    seed_structure_sets()
    structure_set = StructureSet.objects.get(name=DELTA_SET.name)
    licenses = ["MIT", "BSD-3-Clause", "Apache-2.0", "GPL-3.0-only"]
    datasets = [["MPtrj"], ["MPtrj", "Alexandria"], ["OMat24"], ["MatPES-PBE"]]
    MLIP.objects.bulk_create(
        MLIP(
            name=f"Synthetic-{i:02d}",
            family="emt",
            training_datasets=datasets[i % len(datasets)],
            cpu_tasks=["eos"],
            license=licenses[i % len(licenses)],
            code_url="https://example.org/code",
            paper_url="https://example.org/paper",
        )
        for i in range(MODELS - MLIP.objects.count())
    )
    task = Task.objects.get(slug="eos")
    models = list(MLIP.objects.all())
    every = list(structure_set.structures.all())
    run, jobs = run_create(task=task, models=models, structure_set=structure_set, structures=every)
    rng = np.random.default_rng(7)
    skills = {m.id: 0.3 + 2.0 * i / len(models) for i, m in enumerate(models)}
    structures = {s.id: s for s in every}
    for job in jobs:
        job_start(job_id=job.id)
        structure = structures[job.structure_id]
        try:
            if rng.random() < FAILED_FRACTION:
                raise TaskFailed("EOS curve has no energy minimum inside the sampled volumes")
            output = synthetic_eos(structure.reference, structure.natoms, rng, skills[job.model_id])
        except TaskFailed as exc:
            job_fail(job_id=job.id, error=str(exc), traceback=f"Traceback (synthetic)\n{exc}")
            continue
        metrics = evaluate("eos", output, structure.reference)
        job_finish(job_id=job.id, output=output, metrics=metrics, compute_seconds=0.5)
    failed = next(j for j in run.jobs.filter(status="failed"))
    return {
        "model": models[0].slug,
        "compare": ",".join(m.slug for m in models[:3]),
        "structure": structures[next(iter(structures))].id,
        "run": run.pk,
        "job": failed.pk,
    }


def time_page(client, url: str) -> tuple[float, float, int]:
    """Median and p95 milliseconds over REQUESTS requests, and the queries of one."""
    from django.db import connection

    from leaderboard_app.run_pages import nearest_rank

    for _ in range(WARMUP):
        assert client.get(url).status_code == 200, url
    queries = []
    with connection.execute_wrapper(
        lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)
    ):
        client.get(url)
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), nearest_rank(times, 0.95), len(queries)


def time_concurrently(url: str) -> tuple[list[float], float]:
    """Milliseconds per request of CLIENTS clients at once, and requests per second."""
    from tests.serving import BROWSER, fetch

    def client(_: int) -> list[float]:
        times = []
        for _ in range(REQUESTS_PER_CLIENT):
            start = time.perf_counter()
            assert fetch(url, BROWSER).status == 200, url
            times.append((time.perf_counter() - start) * 1000)
        return times

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda _: fetch(url, BROWSER), range(2 * GUNICORN_WORKERS)))  # warm up
        started = time.perf_counter()
        times = [t for each in pool.map(client, range(CLIENTS)) for t in each]
    return times, len(times) / (time.perf_counter() - started)


def page_weight(base: str, path: str) -> tuple[int, int]:
    """Bytes transferred for a page and its assets: empty cache, then a repeat load."""
    from tests.serving import BROWSER, fetch

    page = fetch(base + path, BROWSER)
    assets = {url: fetch(base + url, BROWSER) for url in ASSET.findall(page.text)}
    first = page.wire_bytes + sum(r.wire_bytes for r in assets.values())
    repeat = 0
    for url, earlier in {path: page, **assets}.items():
        if not still_fresh(earlier.headers.get("Cache-Control", "")):
            validators = {
                "If-None-Match": earlier.headers.get("ETag"),
                "If-Modified-Since": earlier.headers.get("Last-Modified"),
            }
            sent = {k: v for k, v in validators.items() if v is not None}
            repeat += fetch(base + url, {**BROWSER, **sent}).wire_bytes
    return first, repeat


def still_fresh(cache_control: str) -> bool:
    """Whether a browser reuses the response a moment later without asking the server."""
    max_age = re.search(r"max-age=(\d+)", cache_control)
    return bool(max_age and int(max_age[1]) > 0 and "no-cache" not in cache_control)


def under_gunicorn(database_url: str, pages: dict[str, str]) -> None:
    from leaderboard_app.run_pages import nearest_rank
    from tests.serving import production_env, run_process, web_server

    print(
        f"\ngunicorn, {GUNICORN_WORKERS} workers, ARENA_PRODUCTION=1; "
        f"{CLIENTS} concurrent clients × {REQUESTS_PER_CLIENT} requests per page"
    )
    print(
        f"{'page':<26}{'median ms':>10}{'p95 ms':>9}{'req/s':>8}{'first KB':>10}{'repeat KB':>11}"
    )
    heavy = []
    with tempfile.TemporaryDirectory() as static_root:
        env = production_env(database_url, Path(static_root))
        run_process("release", env)
        with web_server(env, workers=GUNICORN_WORKERS) as base:
            for name, path in pages.items():
                times, rate = time_concurrently(base + path)
                median, p95 = statistics.median(times), nearest_rank(times, 0.95)
                line = f"{name:<26}{median:>10.1f}{p95:>9.1f}{rate:>8.1f}"
                if "format=" not in path:  # downloads are files, not pages
                    first, repeat = page_weight(base, path)
                    line += f"{first / 1000:>10.1f}{repeat / 1000:>11.1f}"
                    too_big = (
                        first > FIRST_LOAD_GOAL_KB * 1000 or repeat > REPEAT_LOAD_GOAL_KB * 1000
                    )
                    if name.startswith("task") and too_big:
                        heavy.append(name)
                print(line)
    goal = f"task pages under {FIRST_LOAD_GOAL_KB} KB first, {REPEAT_LOAD_GOAL_KB} KB repeat"
    print(f"goal {goal}: {'met' if not heavy else 'missed by ' + ', '.join(heavy)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        sys.exit(
            "set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/arena"
        )
    os.environ["DATABASE_URL"] = scratch_database(url)
    os.environ.update(
        HF_HUB_OFFLINE="1", REDIS_URL="", DEBUG="0", SECRET_KEY="bench", ALLOWED_HOSTS="testserver"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena_site.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from arena_site.heap import settle

    print(f"scratch database: {os.environ['DATABASE_URL'].rsplit('/', 1)[1]}")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    ids = fill()
    print(f"filled {MODELS} models × 71 structures in {time.perf_counter() - started:.0f} s")
    settle()  # as arena_site/wsgi.py does in every web worker
    client = Client()
    pages = {
        "leaderboard": "/",
        "leaderboard, compliant": "/?compliant=on",
        "task eos": "/tasks/eos/",
        "task relax (no metrics)": "/tasks/relax/",
        "model": f"/models/{ids['model']}/",
        "structure": f"/structures/{ids['structure']}/",
        "compare, 3 models": f"/compare/?models={ids['compare']}",
        "cite": "/cite/",
        "runs": "/runs/",
        "run": f"/runs/{ids['run']}/",
        "jobs": "/jobs/",
        "jobs, failed": "/jobs/?status=failed",
        "job": f"/jobs/{ids['job']}/",
        "task eos CSV": "/tasks/eos/?format=csv",
        "jobs JSON (all)": "/jobs/?format=json",
    }
    print(f"{'page':<26}{'median ms':>10}{'p95 ms':>9}{'queries':>9}")
    slow = []
    for name, path in pages.items():
        median, p95, queries = time_page(client, path)
        print(f"{name:<26}{median:>10.1f}{p95:>9.1f}{queries:>9}")
        if p95 > GOAL_MS:
            slow.append(name)
    print(f"goal p95 < {GOAL_MS:.0f} ms: {'met' if not slow else 'missed by ' + ', '.join(slow)}")
    under_gunicorn(os.environ["DATABASE_URL"], pages)
    if not args.keep:
        from django.db import connections

        connections.close_all()
        scratch = os.environ["DATABASE_URL"]
        with server_connection(scratch) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch.rsplit("/", 1)[1]}"')


if __name__ == "__main__":
    main()
