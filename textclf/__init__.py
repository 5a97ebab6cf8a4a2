"""textclf: text-classifier fine-tuning as a Kubernetes operator.

This shared package holds what every part agrees on: the API contract (``textclf.api``), and the
user-facing CLI and SDK. The operator (``textclf_operator``) and the trainer (``textclf_trainer``) both
import it; it imports neither of them.
"""

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``textclf.Client`` and ``textclf.EvalResultCompare``: the SDK, imported on first use so
    ``import textclf`` stays light."""
    if name == "Client":
        from textclf.sdk.client import Client  # noqa: PLC0415

        return Client
    if name == "EvalResultCompare":
        from textclf.sdk.compare import EvalResultCompare  # noqa: PLC0415

        return EvalResultCompare
    raise AttributeError(f"module 'textclf' has no attribute {name!r}")
