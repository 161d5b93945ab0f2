"""Field validators for registry rows; they run in forms and in ``full_clean``."""

import json
import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError

from compute.calculators import FAMILIES, family_names
from compute.tasks import TASKS


def validate_family(value: str) -> None:
    if value not in FAMILIES:
        raise ValidationError(
            f"unknown family {value!r}; choose one of: {', '.join(family_names())}"
        )


def validate_model_name(value: str) -> None:
    """Any text a page can show (slashes, spaces, accents), but no commas, which separate
    names in ``run_benchmark --models``, no control characters (Unicode's C categories)
    and no line or paragraph separators (Zl, Zp), which break a name across lines."""
    if value != value.strip() or not value:
        raise ValidationError("must not be blank or start or end with spaces")
    if "," in value:
        raise ValidationError(f"{value!r} has a comma, which separates names in --models")
    if any(_breaks_a_line(unicodedata.category(c)) for c in value):
        raise ValidationError(f"{value!r} has a control character or a line break")


def _breaks_a_line(category: str) -> bool:
    """Control, format, private-use, unassigned and surrogate code points, and line and
    paragraph separators."""
    return category.startswith("C") or category in ("Zl", "Zp")


def validate_json_object(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError(
            f'must be a JSON object such as {{"key": 1}}, not {type(value).__name__}'
        )
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"must hold only JSON text, numbers, lists and objects ({exc})"
        ) from exc


def validate_string_list(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError('must be a JSON list of names such as ["eos"]')


def validate_sha256(value: str) -> None:
    if value and not re.fullmatch(r"[0-9a-f]{64}", value):
        raise ValidationError("must be a SHA-256 digest: 64 lowercase hex digits")


def validate_task_list(value: Any) -> None:
    validate_string_list(value)
    unknown = [name for name in value if name not in TASKS]
    if unknown:
        raise ValidationError(
            f"unknown task(s) {', '.join(unknown)}; the tasks are {', '.join(TASKS)}"
        )
