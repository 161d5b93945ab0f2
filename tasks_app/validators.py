"""Field validators for task rows; they run in forms and in ``full_clean``."""

from django.core.exceptions import ValidationError

from compute.tasks import TASKS


def validate_task_function(value: str) -> None:
    if value not in TASKS:
        raise ValidationError(f"unknown task function {value!r}; choose one of: {', '.join(TASKS)}")


def validate_set_names(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(n, str) and n for n in value):
        raise ValidationError(
            f'must be a JSON list of set names such as ["md-cells"], not {value!r}'
        )
