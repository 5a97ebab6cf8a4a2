"""The SDK's embedded backend: no cluster, everything as files under one home folder, and training and
evaluation as child processes of this machine, so the SDK's process never holds a model it did not
ask to predict with, and a run goes on if the notebook that started it restarts.

Layout (``home`` defaults to ``$TEXTCLF_HOME`` or ``~/.textclf``)::

    HOME/apps/<app>/app.json
    HOME/apps/<app>/datasets/<id>/data.csv, dataset.json   the uploaded file and what was found in it
    HOME/apps/<app>/models/<id>/model.json                 model type and current params
    HOME/apps/<app>/runs/<version>/                        as ``textclf train --local`` keeps a run:
        run.yaml, status.json, train.log, console.log, artifact/
    HOME/apps/<app>/evaluations/<id>/                      request.json, status.json, eval.log,
        result/ (metrics.json, predictions.json: the trainer's evaluator, ``textclf.sdk.evaljob``)

Training runs ``textclf train --local``, evaluation ``python -m textclf.sdk.evaljob``; their status
files are the truth, so any Client on the same home sees the same state.
"""

from __future__ import annotations

import codecs
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import yaml

from textclf.api import codes, serving, trainingrun, trainingtemplate
from textclf.cli import localruns
from textclf.sdk import evaljob, manifests

HOME_ENV = "TEXTCLF_HOME"
_ID = re.compile(r"^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$")
POLL_SECONDS = 0.5
"""How often ``wait`` reads the status file of a run this process did not start."""
TERMINAL = {codes.StatusCode.TRAINED, codes.StatusCode.FAILED}


class NotFound(LookupError, ValueError):
    """An app, dataset, model, version or evaluation that does not exist; the message names it.
    A ValueError too: it is a bad argument of the call that names it."""


def default_home() -> pathlib.Path:
    return pathlib.Path(os.environ.get(HOME_ENV) or pathlib.Path.home() / ".textclf")


def check_id(kind: str, value: str) -> str:
    """Ids become folder names here and object names on a cluster: DNS labels of at most 52."""
    if not _ID.match(value):
        raise ValueError(
            f"{kind} id {value!r}: use lowercase letters, digits and '-', at most 52 characters, "
            "starting and ending with a letter or digit"
        )
    return value


def _write_json(path: pathlib.Path, content: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(content, indent=2) + "\n")
    tmp.replace(path)


def _read_json(path: pathlib.Path) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(path.read_text())
    return content


class LocalBackend:
    def __init__(self, home: pathlib.Path | str | None = None) -> None:
        self.home = pathlib.Path(home) if home is not None else default_home()
        self._processes: dict[pathlib.Path, subprocess.Popen[bytes]] = {}
        self._predictors: dict[str, Any] = {}

    # --- apps ------------------------------------------------------------------------------------

    def _app(self, app: str) -> pathlib.Path:
        folder = self.home / "apps" / app
        if not (folder / "app.json").exists():
            raise NotFound(f"app {app!r} not found under {self.home}")
        return folder

    def create_app(self, app: str) -> None:
        folder = self.home / "apps" / check_id("app", app)
        if (folder / "app.json").exists():
            raise ValueError(f"app {app!r} already exists")
        _write_json(folder / "app.json", {"id": app})

    def list_apps(self) -> list[str]:
        return sorted(p.parent.name for p in (self.home / "apps").glob("*/app.json"))

    def has_app(self, app: str) -> bool:
        return (self.home / "apps" / app / "app.json").exists()

    # --- datasets --------------------------------------------------------------------------------

    def _dataset_dir(self, app: str, dataset: str) -> pathlib.Path:
        return self._app(app) / "datasets" / dataset

    def create_dataset(self, app: str, dataset: str) -> None:
        folder = self._app(app) / "datasets" / check_id("dataset", dataset)
        if (folder / "dataset.json").exists():
            raise ValueError(f"dataset {dataset!r} already exists in app {app!r}")
        _write_json(folder / "dataset.json", {"id": dataset, "uploaded": False})

    def dataset(self, app: str, dataset: str) -> dict[str, Any]:
        path = self._dataset_dir(app, dataset) / "dataset.json"
        if not path.exists():
            raise NotFound(f"dataset {dataset!r} not found in app {app!r}")
        return _read_json(path)

    def list_datasets(self, app: str) -> list[str]:
        return sorted(p.parent.name for p in (self._app(app) / "datasets").glob("*/dataset.json"))

    def store_dataset(
        self, app: str, dataset: str, source: pathlib.Path, info: dict[str, Any]
    ) -> None:
        """Keep the checked file and what was found in it (``upload.check`` made ``info``)."""
        folder = self._dataset_dir(app, dataset)
        self.dataset(app, dataset)
        target = folder / ("data" + (source.suffix.lower() or ".csv"))
        shutil.copyfile(source, target)
        _write_json(folder / "dataset.json", {**info, "id": dataset, "uploaded": True,
                                              "uri": target.resolve().as_uri(),
                                              "bytes": target.stat().st_size})  # fmt: skip

    # --- models ----------------------------------------------------------------------------------

    def _model_file(self, app: str, model: str) -> pathlib.Path:
        return self._app(app) / "models" / model / "model.json"

    def create_model(self, app: str, model: str, model_type_id: str) -> None:
        check_id("model", model)
        if model_type_id not in trainingtemplate.MODEL_TYPES:
            raise ValueError(
                f"model type {model_type_id!r} is not trainable here; "
                f"trainable: {', '.join(trainingtemplate.MODEL_TYPES)}"
            )
        path = self._model_file(app, model)
        if path.exists():
            raise ValueError(f"model {model!r} already exists in app {app!r}")
        _write_json(path, {"id": model, "model_type_id": model_type_id, "params": {}})

    def model(self, app: str, model: str) -> dict[str, Any]:
        path = self._model_file(app, model)
        if not path.exists():
            raise NotFound(f"model {model!r} not found in app {app!r}")
        return _read_json(path)

    def save_model(self, app: str, model: str, content: Mapping[str, Any]) -> None:
        _write_json(self._model_file(app, model), content)

    def list_models(self, app: str) -> list[str]:
        return sorted(p.parent.name for p in (self._app(app) / "models").glob("*/model.json"))

    # --- templates -------------------------------------------------------------------------------

    def templates(self) -> list[str]:
        from textclf_trainer import catalogue  # noqa: PLC0415  (torch-free)

        return list(catalogue.names())

    def template_defaults(self, template: str) -> dict[str, Any]:
        from textclf_trainer import catalogue  # noqa: PLC0415

        spec = catalogue.get(template)
        if spec is None:
            raise ValueError(
                f"template {template!r} is unknown; known: {', '.join(self.templates())}"
            )
        defaults: dict[str, Any] = spec["defaults"]
        return defaults

    def template_schema(self, template: str) -> dict[str, Any]:
        """The JSON Schema of the template's params (what ``check_params`` applies)."""
        from textclf_trainer import catalogue  # noqa: PLC0415

        self.template_defaults(template)  # the error naming the known ones
        schema: dict[str, Any] = dict(catalogue.get(template) or {}).get("paramsSchema") or {}
        return schema

    def check_params(self, template: str, params: Mapping[str, Any]) -> None:
        """``ValueError`` naming the first key the template's schema refuses."""
        from textclf_trainer import errors  # noqa: PLC0415
        from textclf_trainer import params as checked  # noqa: PLC0415

        try:
            checked.effective(template, params)
        except errors.TrainerError as err:
            raise ValueError(err.message) from None

    # --- training --------------------------------------------------------------------------------

    def _runs(self, app: str) -> pathlib.Path:
        return self._app(app) / "runs"

    def versions(self, app: str, model: str) -> list[str]:
        """The model's versions, oldest first."""
        found = []
        for path in self._runs(app).glob("*/run.yaml"):
            document = yaml.safe_load(path.read_text())
            if document["spec"]["modelRef"]["name"] == model:
                found.append((path.stat().st_mtime_ns, path.parent.name))
        return [name for _, name in sorted(found)]

    def train(
        self,
        app: str,
        model: str,
        template: str,
        params: Mapping[str, Any],
        dataset: Mapping[str, Any],
    ) -> str:
        """Start a run of ``model`` on an uploaded ``dataset``; its name (the version id)."""
        number = len(self.versions(app, model)) + 1
        version = f"{model}-v{number}"
        while (self._runs(app) / version).exists():
            number += 1
            version = f"{model}-v{number}"
        run_dir = self._runs(app) / version
        output = (run_dir / localruns.ARTIFACT).resolve().as_uri()
        document = manifests.training_run(
            version, model=model, template=template, params=params, dataset=dataset, output=output
        )
        run_dir.mkdir(parents=True)
        (run_dir / "run.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
        localruns.write_status(
            run_dir,
            trainingrun.TrainingRunStatus(
                code=codes.StatusCode.QUEUED, description=codes.describe(codes.StatusCode.QUEUED)
            ),
        )
        command = [sys.executable, "-m", "textclf.cli.main", "train", "--local",
                   "-f", str(run_dir / "run.yaml"), "--runs-dir", str(self._runs(app)),
                   "--progress", "json"]  # fmt: skip
        self._spawn(run_dir, command, run_dir / "console.log")
        return version

    def _spawn(self, folder: pathlib.Path, command: Sequence[str], log: pathlib.Path) -> None:
        with log.open("wb") as out:
            self._processes[folder] = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    def run_dir(self, app: str, version: str) -> pathlib.Path:
        folder = self._runs(app) / version
        if not (folder / "run.yaml").exists():
            raise NotFound(f"version {version!r} not found in app {app!r}")
        return folder

    def status(self, app: str, version: str) -> trainingrun.TrainingRunStatus:
        folder = self.run_dir(app, version)
        found = localruns.read_status(folder)
        process = self._processes.get(folder)
        if found is None or (
            found.code not in TERMINAL and process is not None and process.poll() not in (None, 0)
        ):
            # the process died before it could say why (killed, out of memory)
            tail = (folder / "console.log").read_text(errors="replace")[-500:]
            return trainingrun.TrainingRunStatus(
                code=codes.StatusCode.FAILED,
                detail_code=codes.DetailCode.INTERNAL_ERROR,
                description=f"the training process ended without a result: {tail.strip()}",
            )
        return found

    def wait(
        self,
        app: str,
        version: str,
        timeout: float | None,
        on_status: Callable[[trainingrun.TrainingRunStatus], None] | None = None,
    ) -> trainingrun.TrainingRunStatus:
        """Until the run is trained or failed (or the child this process started has ended): its
        status read every ``POLL_SECONDS``, each seen by ``on_status`` (the CLI's progress view).
        ``TimeoutError`` after ``timeout`` seconds."""
        folder = self.run_dir(app, version)
        deadline = None if timeout is None else time.monotonic() + timeout
        process = self._processes.get(folder)
        while True:
            ended = process is not None and process.poll() is not None  # read before the status
            status = self.status(app, version)
            if on_status is not None:
                on_status(status)
            if status.code in TERMINAL or ended:
                return status
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"{version} still training after {timeout:g} s")
            time.sleep(POLL_SECONDS)

    def log(self, app: str, version: str, follow: bool = False) -> Iterator[str]:
        """The run's log; with ``follow``, what it adds too, until the run is trained or failed."""
        path = self.run_dir(app, version) / localruns.LOG
        offset = 0
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            finished = self.status(app, version).code in TERMINAL  # read before the file
            if path.exists():
                with path.open("rb") as handle:
                    handle.seek(offset)
                    chunk = handle.read()
                offset += len(chunk)
                if text := decoder.decode(chunk, final=not follow or finished):
                    yield text
            if not follow or finished:
                return
            time.sleep(POLL_SECONDS)

    def predict(
        self, app: str, model: str, version: str, texts: list[str], **options: Any
    ) -> list[list[serving.Concept]]:
        """In this process: the version's artifact, loaded once (torch is imported here)."""
        artifact = self.artifact(app, version).uri
        if artifact not in self._predictors:
            from textclf_trainer import entrypoint, predictor  # noqa: PLC0415

            entrypoint.quiet_libraries()
            self._predictors[artifact] = predictor.Predictor.load(artifact)
        answers: list[list[serving.Concept]] = self._predictors[artifact].predict(texts, **options)
        return answers

    def artifact(self, app: str, version: str) -> trainingrun.Artifact:
        status = self.status(app, version)
        if status.code != codes.StatusCode.TRAINED or status.artifact is None:
            raise ValueError(f"version {version} is {status.code}, not {codes.StatusCode.TRAINED}")
        return status.artifact

    # --- evaluations -----------------------------------------------------------------------------

    def _eval_dir(self, app: str, evaluation: str) -> pathlib.Path:
        return self._app(app) / "evaluations" / evaluation

    def evaluate(self, app: str, evaluation: str, request: Mapping[str, Any]) -> None:
        folder = self._eval_dir(app, check_id("evaluation", evaluation))
        if folder.exists():
            raise ValueError(f"evaluation {evaluation!r} already exists in app {app!r}")
        folder.mkdir(parents=True)
        _write_json(folder / "request.json", request)
        _write_json(
            folder / "status.json",
            {
                "code": codes.EvaluationCode.QUEUED,
                "description": codes.describe(codes.EvaluationCode.QUEUED),
            },
        )
        command = [sys.executable, "-m", "textclf.sdk.evaljob", str(folder)]
        self._spawn(folder, command, folder / "eval.log")

    def evaluation(self, app: str, evaluation: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """(request, status) of an evaluation."""
        folder = self._eval_dir(app, evaluation)
        if not (folder / "request.json").exists():
            raise NotFound(f"evaluation {evaluation!r} not found in app {app!r}")
        status = _read_json(folder / "status.json")
        process = self._processes.get(folder)
        done = (codes.EvaluationCode.EVALUATED, codes.EvaluationCode.FAILED)
        if status["code"] not in done and process is not None and process.poll() not in (None, 0):
            tail = (folder / "eval.log").read_text(errors="replace")[-500:].strip()
            status = {"code": codes.EvaluationCode.FAILED,
                      "description": f"the evaluation process ended without a result: {tail}"}  # fmt: skip
        return _read_json(folder / "request.json"), status

    def wait_evaluation(self, app: str, evaluation: str, timeout: float | None) -> dict[str, Any]:
        folder = self._eval_dir(app, evaluation)
        deadline = None if timeout is None else time.monotonic() + timeout
        done = (codes.EvaluationCode.EVALUATED, codes.EvaluationCode.FAILED)
        process = self._processes.get(folder)
        if process is not None:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                raise TimeoutError(f"evaluation {evaluation} still running") from None
        while (status := self.evaluation(app, evaluation)[1])["code"] not in done:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"evaluation {evaluation} still running after {timeout:g} s")
            time.sleep(POLL_SECONDS)
        return status

    def evaluation_file(self, app: str, evaluation: str, name: str) -> bytes:
        """A file of a finished evaluation's output (``metrics.json``, ``predictions.json``)."""
        self.evaluation(app, evaluation)
        path = self._eval_dir(app, evaluation) / evaljob.RESULT_DIR / name
        if not path.exists():
            raise NotFound(f"evaluation {evaluation!r} has no {name} (it has not finished)")
        return path.read_bytes()

    def list_evaluations(self, app: str) -> list[str]:
        return sorted(
            p.parent.name for p in (self._app(app) / "evaluations").glob("*/request.json")
        )
