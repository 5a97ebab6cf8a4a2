"""The resource commands (apps, datasets, models, templates) driven as a user types them, on the
embedded backend: each prints what the SDK call returns, and refuses bad input with a clear line."""

from __future__ import annotations

import json
import pathlib

import yaml

from tests.cli import shell
from tests.trainer import runs

IMDB = runs.REPO / "examples" / "data" / "clarifai_imdb"


def test_apps_datasets_models_templates(tmp_path: pathlib.Path) -> None:
    home = tmp_path / "home"
    assert shell.ok(home, "apps", "create", "demo") == "app demo created\n"
    assert shell.ok(home, "apps", "list") == "demo\n"

    uploaded = shell.ok(
        home, "datasets", "upload", str(IMDB / "train.csv"), "--app", "demo", "--id", "text-dataset"
    )
    assert "dataset text-dataset: 200 of 200 rows usable" in uploaded
    assert "neg 120, pos 80" in uploaded
    bad = tmp_path / "bad.csv"
    bad.write_text("review,sentiment\nfine,pos\n")
    refused = shell.textclf(home, "datasets", "upload", str(bad), "--app", "demo")
    assert refused.returncode == 2
    assert "header review,sentiment has neither input,concepts or text,label" in refused.stderr
    stored = home / "apps" / "demo" / "datasets" / "text-dataset" / "data.csv"
    assert f"uri: {stored.as_uri()}" in uploaded
    assert (
        shell.ok(home, "datasets", "list", "--app", "demo")
        == f"bad\tno data yet\ntext-dataset\t200 rows\t{stored.as_uri()}\n"
    )

    assert (
        shell.ok(home, "models", "create", "reviews", "--app", "demo")
        == "model reviews created in app demo\n"
    )
    assert shell.ok(home, "models", "list", "--app", "demo") == "reviews\n"
    assert (
        shell.ok(home, "models", "get", "reviews", "--app", "demo") == "model reviews (app demo)\n"
    )

    assert {"embedding-logreg", "hf-advanced", "hf-lora"} <= set(
        shell.ok(home, "templates", "list").split()
    )
    assert shell.ok(home, "templates", "model-types") == "text-classifier\n"
    shown = shell.ok(home, "templates", "show", "embedding-logreg", "-o", str(tmp_path / "p.yaml"))
    schema = json.loads(shell.ok(home, "templates", "show", "embedding-logreg", "--schema"))
    assert schema["additionalProperties"] is False  # what refuses an unknown key by name
    assert "logreg" in schema["properties"]
    assert schema["properties"]["max_length"]["minimum"] == 8
    unknown = shell.textclf(home, "templates", "show", "no-such-template")
    assert unknown.returncode == 2
    assert "template 'no-such-template' is unknown; known: " in unknown.stderr
    written = yaml.safe_load((tmp_path / "p.yaml").read_text())
    assert written == yaml.safe_load(shown)
    assert written["template"] == "embedding-logreg"
    assert "logreg" in written
