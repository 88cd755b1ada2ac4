"""The API's JSON parser: standard JSON only.

Python's json module accepts NaN, Infinity and numbers too large for a float (which become inf); no
JSON client means them, and they break validation and storage further on. They are refused at the
door, as a body that cannot be parsed (400).
"""

import json
import math
from typing import Any, cast

from django.http import HttpRequest
from ninja.parser import Parser


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _finite_int(text: str) -> int:
    if len(text) > 40:  # far beyond any quantity the platform stores; bounds the cost of parsing
        raise ValueError("number out of range")
    return int(text)


class StrictJsonParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        return cast(
            dict[str, Any],
            json.loads(request.body, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_finite_int),
        )
