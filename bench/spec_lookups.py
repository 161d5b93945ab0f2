"""How many times one task page and one job look a task's spec up in the registry.

Usage: .venv/bin/python bench/spec_lookups.py [TASK [STRUCTURE]]   (default: eos Cu)

Runs in a scratch SQLite database unless DATABASE_URL is set: one EMT job of TASK on
STRUCTURE of its default set, in-process, then the task's page. Every call of
``compute.tasks.task_spec`` and ``spec_or_placeholder`` and every read of ``TASKS`` by
name outside the registry counts as one look-up, with the function that made it.
"""

from __future__ import annotations

import collections
import io
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_arena  # noqa: E402

counts: collections.Counter[tuple[str, str]] = collections.Counter()
phase = ["setup"]


def caller() -> str:
    frame = sys._getframe(2)
    return f"{frame.f_globals.get('__name__')}.{frame.f_code.co_name}"


def count_lookups() -> None:
    """Wrap the registry's look-ups wherever a module holds them."""
    import compute.tasks as registry

    for name in ("task_spec", "spec_or_placeholder"):
        original = getattr(registry, name)

        def counted(task: str, _original=original):  # noqa: ANN202
            counts[(phase[0], caller())] += 1
            return _original(task)

        for module in list(sys.modules.values()):
            if isinstance(module, types.ModuleType) and getattr(module, name, None) is original:
                setattr(module, name, counted)

    class CountedTasks(dict):
        def __getitem__(self, key):  # noqa: ANN001, ANN204
            if sys._getframe(1).f_globals.get("__name__") != "compute.tasks":
                counts[(phase[0], caller())] += 1
            return super().__getitem__(key)

        def get(self, key, default=None):  # noqa: ANN001, ANN201
            if sys._getframe(1).f_globals.get("__name__") != "compute.tasks":
                counts[(phase[0], caller())] += 1
            return super().get(key, default)

    tasks = CountedTasks(registry.TASKS)
    for module in list(sys.modules.values()):
        if getattr(module, "TASKS", None) is registry.TASKS:
            module.TASKS = tasks


def in_phase(name: str, function):  # noqa: ANN001, ANN201
    def wrapped(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        phase[0] = name
        try:
            return function(*args, **kwargs)
        finally:
            phase[0] = "command"

    return wrapped


def main() -> None:
    task, structure = (sys.argv[1:] + ["eos", "Cu"][len(sys.argv) - 1 :])[:2]
    scratch_arena()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from tasks_app.execution import in_process

    count_lookups()
    in_process.execute_claimed = in_phase("job", in_process.execute_claimed)
    phase[0] = "command"
    out = io.StringIO()
    call_command("run_benchmark", task, models="EMT", structures=structure, stdout=out)
    print(out.getvalue().splitlines()[0])
    phase[0] = "page"
    response = Client(HTTP_HOST="localhost").get(reverse("leaderboard:task", args=[task]))
    assert response.status_code == 200, response.status_code
    for name in ("job", "page", "command"):
        found = {where: n for (p, where), n in counts.items() if p == name}
        print(f"{name}: {sum(found.values())} look-ups")
        for where, n in sorted(found.items()):
            print(f"  {n}  {where}")


if __name__ == "__main__":
    main()
