"""The training code of each template, imported only when a run uses it (they pull in torch).

``get(name)`` returns the module whose ``train(job)`` trains that template; names and schemas live in
``catalogue`` (torch-free).
"""

from __future__ import annotations

import importlib
from typing import Protocol, cast

from textclf_trainer import artifacts, catalogue
from textclf_trainer.templates import base

_MODULES = {
    catalogue.HF_ADVANCED: "textclf_trainer.templates.hf_advanced",
    catalogue.HF_LORA: "textclf_trainer.templates.hf_lora",
    catalogue.EMBEDDING_LOGREG: "textclf_trainer.templates.embedding_logreg",
}


class Template(Protocol):
    def train(self, job: base.TrainJob) -> artifacts.Metadata: ...


def get(name: str) -> Template:
    """The training module of a template (imported on first use)."""
    return cast(Template, importlib.import_module(_MODULES[name]))
