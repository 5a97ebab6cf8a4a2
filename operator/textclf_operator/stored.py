"""Reading the status an object holds, typed: shared by the status computations and the reconciler.

A status written by an older operator, or edited by hand, may not parse; it then counts as empty and
is computed afresh rather than stopping the reconcile.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import pydantic

StatusT = TypeVar("StatusT", bound=pydantic.BaseModel)


def status(body: Mapping[str, Any], model: type[StatusT]) -> StatusT:
    """The status ``body`` holds, as ``model``; empty if it holds none or one we cannot read."""
    try:
        return model.model_validate(body.get("status") or {})
    except pydantic.ValidationError:
        return model.model_validate({})
