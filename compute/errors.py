"""Exceptions a user can act on; each message is one line that says what to do."""


class ComputeError(Exception):
    """Base class for errors caused by input, models or missing files."""


class CalculatorLoadError(ComputeError):
    """A model's calculator could not be built (package, checkpoint or kwargs)."""


class NotApplicable(ComputeError):
    """The model cannot take this structure (an element outside its training set): no result
    is expected, so the job is recorded as not applicable rather than failed."""


class TaskFailed(ComputeError):
    """A task could not produce a physical result (divergence, NaN energies)."""


def one_line(exc: BaseException, limit: int = 300) -> str:
    """The non-empty lines of an error's message joined into one, cut at ``limit`` chars."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    text = text or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_line(exc: BaseException) -> str:
    """``TypeName: message`` on one line, for errors from inside libraries."""
    return f"{type(exc).__name__}: {one_line(exc)}"
