"""CPU threads per worker process: torch's intra- and inter-op pools, OpenMP and BLAS.

Torch takes every core in every process; two workers on one host then fight for the
cores and run slower together than one alone. Each worker takes its share instead.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from typing import Any


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, which a batch scheduler may narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def threads_per_worker(*, cores: int, workers: int) -> int:
    """An equal share of ``cores`` for each of ``workers`` processes, at least one."""
    return max(1, cores // max(1, workers))


# Read by OpenMP and BLAS libraries when they load: a model's import may load one more
# (scipy's own OpenBLAS, say) after the limit is set.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def apply_threads(threads: int) -> dict[str, int]:
    """Limit this process to ``threads`` compute threads; return what each pool now has.

    Pools already loaded are limited through threadpoolctl and torch; libraries loaded
    later read the environment. Inter-op parallelism only helps graphs with
    independent branches, which the calculators we run rarely have, so it gets one
    thread.
    """
    from threadpoolctl import threadpool_limits

    os.environ.update(dict.fromkeys(THREAD_VARIABLES, str(threads)))
    threadpool_limits(limits=threads)  # OpenMP and BLAS (OpenBLAS, MKL) loaded so far
    chosen = {"blas_openmp": threads}
    try:
        import torch
    except ImportError:
        return chosen
    torch.set_num_threads(threads)
    # Torch allows this once, before any inter-op work has started.
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)
    chosen["torch_intra_op"] = torch.get_num_threads()
    chosen["torch_inter_op"] = torch.get_num_interop_threads()
    return chosen


class ThreadShare:
    """This process's compute threads while a job runs: its share of the cores when the
    job starts, more while the host's other workers are idle (the last job of a run,
    alone on the host, then runs on the cores the others left), back to the share as
    soon as one is busy again.

    Any thread may report the busy workers (``peers``); the thread that calls the model
    applies the count before its next call (``settle``, through ``follow``): torch's and
    OpenMP's thread counts belong to the calling thread. A worker grows only once it has
    seen the others idle at two reports running, so that a sibling between two jobs does
    not make it fight that sibling's next job for the cores.
    """

    def __init__(self) -> None:
        self.base = 0  # the share the job started with; 0: no share taken (no changes)
        self.grows = False
        self.wanted = 0
        self.applied = 0
        self.seen_idle = 0  # threads the last report would have given, while above the base

    def start(self, threads: int, *, grows: bool = True) -> None:
        """In the computing thread, as a job starts: its share, ``threads``, applied now
        (the job's provenance reads it); ``grows``: it may take idle cores. 0: no share
        taken, the threads are left as they are."""
        self.base = self.wanted = threads
        self.grows = grows
        self.seen_idle = 0
        self.settle()

    def peers(self, *, busy: int, cores: int) -> None:
        """Report ``busy`` workers on this host (this one included) of ``cores``."""
        if not (self.base and self.grows):
            return
        fair = threads_per_worker(cores=cores, workers=busy)
        if fair <= self.base:
            self.wanted, self.seen_idle = self.base, 0  # back at once
        elif self.seen_idle == fair:
            self.wanted = fair
        else:
            self.seen_idle = fair

    def settle(self) -> None:
        """Apply the wanted count in the calling (computing) thread, if it changed."""
        wanted = self.wanted
        if wanted and wanted != self.applied:
            self.applied = wanted
            apply_threads(wanted)


SHARE = ThreadShare()  # this process's


def follow(calculator: Any, share: ThreadShare = SHARE) -> Any:
    """Have ``calculator`` settle ``share`` before each of its calls (ASE's ``calculate``
    and a batch call), once per calculator object; returns it."""
    if getattr(calculator, "_follows_share", None) is share:
        return calculator
    for name in ("calculate", "calculate_batch"):
        method = getattr(calculator, name, None)
        if method is not None:
            setattr(calculator, name, _settling(method, share))
    calculator._follows_share = share
    return calculator


def _settling(method: Any, share: ThreadShare) -> Any:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        share.settle()
        return method(*args, **kwargs)

    return call


@functools.cache
def _blas_pools() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


def one_blas_thread() -> contextlib.AbstractContextManager:
    """A block whose BLAS and LAPACK calls (numpy's and scipy's OpenBLAS) run on one thread.

    A relaxation's cell algebra is on 3×3 matrices, where a second BLAS thread only
    waits: scipy's ``expm_frechet`` took 0.28 ms on one thread and 4.7 to 15.6 ms on
    two beside a busy model (load 7, 2 cores). Torch's own pools are not BLAS pools
    here and keep their threads. The pools are those loaded at the first call.
    """
    return _blas_pools().limit(limits=1)


def ran_with(calculator: Any) -> dict[str, Any]:
    """The device ``calculator`` computes on and this thread's torch intra-op threads."""
    torch = sys.modules.get("torch")
    device = getattr(calculator, "device", None)
    return {
        "device": str(device) if device is not None else "cpu",
        "torch_threads": torch.get_num_threads() if torch else None,
    }


def physical_device(device: str) -> str:
    """What ``device`` is on this host: itself, or a CUDA GPU's UUID, so that workers
    given different CUDA_VISIBLE_DEVICES still know when they share one GPU."""
    if not device.startswith("cuda"):
        return device
    import torch

    index = torch.device(device).index
    if index is None:
        index = torch.cuda.current_device()
    return str(torch.cuda.get_device_properties(index).uuid)
