"""Field validators for registry rows; they run in forms and in ``full_clean``."""

import re
from typing import Any

from django.core.exceptions import ValidationError

from compute.calculators import FAMILIES, family_names


def validate_family(value: str) -> None:
    if value not in FAMILIES:
        raise ValidationError(
            f"unknown family {value!r}; choose one of: {', '.join(family_names())}"
        )


def validate_json_object(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError(
            f'must be a JSON object such as {{"key": 1}}, not {type(value).__name__}'
        )


def validate_string_list(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError('must be a JSON list of names such as ["eos"]')


def validate_sha256(value: str) -> None:
    if value and not re.fullmatch(r"[0-9a-f]{64}", value):
        raise ValidationError("must be a SHA-256 digest: 64 lowercase hex digits")
