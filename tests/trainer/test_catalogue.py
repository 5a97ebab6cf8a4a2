"""The template catalogue: valid JSON Schemas, defaults that satisfy them, TrainingTemplate objects."""

from __future__ import annotations

import subprocess
import sys

import jsonschema

from textclf.api import trainingtemplate
from textclf_trainer import catalogue


def test_each_template_publishes_a_valid_schema_and_defaults() -> None:
    entries = catalogue.templates()
    assert [t["name"] for t in entries] == ["hf-advanced", "hf-lora", "embedding-logreg"]
    for entry in entries:
        assert set(entry) == {"name", "description", "defaults", "paramsSchema", "resources"}
        jsonschema.Draft202012Validator.check_schema(entry["paramsSchema"])
        jsonschema.validate(entry["defaults"], entry["paramsSchema"])
        trainingtemplate.TemplateResources.model_validate(entry["resources"])


def test_training_template_object() -> None:
    template = catalogue.training_template("embedding-logreg", "ghcr.io/x/trainer:1")
    wire = template.to_wire()
    assert wire["spec"]["command"] == ["python", "-m", "textclf_trainer"]
    assert wire["spec"]["paramsSchema"]["properties"]["logreg"]["type"] == "object"
    assert wire["metadata"] == {"name": "embedding-logreg"}


def test_catalogue_and_cli_import_without_torch() -> None:
    code = (
        "import sys; from textclf_trainer import catalogue, params; import textclf.cli.main as m; "
        "m.build_parser([__import__(n, fromlist=['x']) for n in m.COMMANDS]); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
