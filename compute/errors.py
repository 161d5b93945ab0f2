"""Exceptions a user can act on; each message is one line that says what to do."""


class ComputeError(Exception):
    """Base class for errors caused by input, models or missing files."""


class CalculatorLoadError(ComputeError):
    """A model's calculator could not be built (package, checkpoint or kwargs)."""


class TaskFailed(ComputeError):
    """A task could not produce a physical result (divergence, NaN energies)."""


def first_line(exc: BaseException) -> str:
    """``TypeName: first line of the message``, for one-line error reports."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
