"""Pure computation of a TrainingTemplate's status: is it usable?

A template whose paramsSchema is not a JSON Schema, or whose own defaults break it, would fail every
run that names it; ``Valid=False`` says so on the template itself, where its author looks.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import pydantic

from textclf.api import conditions as conds
from textclf.api import trainingtemplate
from textclf_operator import params, stored


def compute(
    template: Mapping[str, Any], now: datetime.datetime
) -> trainingtemplate.TrainingTemplateStatus:
    """The status ``template`` should have."""
    previous = stored.status(template, trainingtemplate.TrainingTemplateStatus)
    generation = (template.get("metadata") or {}).get("generation")
    try:
        spec = trainingtemplate.TrainingTemplateSpec.model_validate(template.get("spec") or {})
        problems = params.problems(spec.defaults or {}, spec.params_schema)
    except pydantic.ValidationError as err:
        problems = [str(err)]
    message = (
        "defaults or paramsSchema are broken: " + "; ".join(problems)
        if problems
        else "paramsSchema is a JSON Schema and the defaults satisfy it"
    )
    return trainingtemplate.TrainingTemplateStatus(
        observed_generation=generation,
        conditions=conds.set_condition(
            previous.conditions,
            type=conds.VALID,
            status="False" if problems else "True",
            reason=conds.REASON_SCHEMA_INVALID if problems else conds.REASON_SCHEMA_VALID,
            message=message[:4096],
            now=now,
            observed_generation=generation,
        ),
    )
