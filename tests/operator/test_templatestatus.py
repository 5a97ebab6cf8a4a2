"""A TrainingTemplate says whether it is usable: Valid reflects its paramsSchema and defaults."""

from __future__ import annotations

import datetime
from typing import Any

from textclf_operator import templatestatus

NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=datetime.UTC)


def _template(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "t", "generation": 2}, "spec": {"image": "i", **spec}}


def _valid(template: dict[str, Any]) -> tuple[str, str, str]:
    cond = templatestatus.compute(template, NOW).conditions[0]
    return cond.status, cond.reason, cond.message


def test_no_schema_is_valid() -> None:
    assert _valid(_template())[:2] == ("True", "SchemaValid")


def test_a_schema_that_is_not_json_schema_is_invalid() -> None:
    status, reason, message = _valid(_template(paramsSchema={"type": "nonsense"}))
    assert (status, reason) == ("False", "SchemaInvalid")
    assert "not a valid JSON Schema" in message


def test_defaults_that_break_the_schema_are_invalid() -> None:
    schema = {"type": "object", "properties": {"epochs": {"type": "integer"}}}
    status, _, message = _valid(_template(defaults={"epochs": "three"}, paramsSchema=schema))
    assert status == "False"
    assert "params.epochs" in message
    assert _valid(_template(defaults={"epochs": 3}, paramsSchema=schema))[0] == "True"


def test_generation_is_recorded() -> None:
    assert templatestatus.compute(_template(), NOW).observed_generation == 2
