"""The one exception type for errors a user can cause in the Django apps."""

from compute.errors import ComputeError


class ArenaError(ComputeError):
    """Bad input (unknown name, malformed registry entry): the message says what to do."""
