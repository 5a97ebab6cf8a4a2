"""The Python SDK, with the calls users of the hosted text-classifier platform know, by those names:
``Client`` → ``App`` → ``Dataset`` and ``Model`` → versions (training runs) and evaluations.

    client = textclf.Client(local=True, home="work")
    app = client.create_app("demo")
    ds = app.create_dataset("text-dataset")
    ds.upload_from_csv("train.csv")                       # checked: rows, concepts, bad rows
    model = app.create_model("reviews", model_type_id="text-classifier")
    params = model.get_params(template="embedding-logreg", save_to="params.yaml")
    model.update_params(dataset_id="text-dataset", concepts=["neg", "pos"])
    version = model.train()
    model.wait_for_training(version)
    model.training_status(version, training_logs=True).code   # MODEL-TRAINED, and <version>.log
    model.predict(["a fine film"])[0][0].id                  # every concept, highest first
    model.evaluate(dataset_id="test-dataset", eval_id="two")
    model.get_eval_by_id("two").summary.macro_avg_f1_score

Backends: the cluster of the kubeconfig (``textclf.sdk.cluster``: namespaces, ConfigMaps,
TextClassifierModels, TrainingRuns, the served model) or the embedded one (``local=True``:
``textclf.sdk.local``: folders and child processes). Evaluations are ModelEvaluations on a cluster and
child processes locally; both run the trainer's evaluator.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import yaml

from textclf.api import codes, modelevaluation, serving, trainingrun, trainingtemplate
from textclf.sdk import local as embedded
from textclf.sdk import upload

if TYPE_CHECKING:
    from textclf.sdk.cluster import ClusterBackend

    Backend = embedded.LocalBackend | ClusterBackend

DEFAULT_TEMPLATE = "hf-advanced"
RESERVED_PARAMS = ("dataset_id", "template")
"""Keys of a model's params that are not the template's: which dataset, which template."""


@dataclasses.dataclass(frozen=True)
class TrainingStatus:
    code: str
    description: str
    progress: trainingrun.Progress | None
    detail_code: str | None = None
    metrics: trainingrun.Metrics | None = None


@dataclasses.dataclass(frozen=True)
class Evaluation:
    id: str
    version_id: str
    dataset_id: str
    status: str
    description: str
    summary: modelevaluation.Summary | None


class Client:
    """``Client()``: the cluster of the current kubeconfig context (``kubeconfig=``, ``context=``;
    versions are written under ``artifacts``, a ``pvc://CLAIM`` or ``s3://BUCKET/PREFIX`` store of
    each app's namespace; datasets over the ConfigMap limit go to the claim ``datasets``, default
    ``pvc://textclf-datasets``). ``Client(local=True, home=PATH)``: the embedded backend, no cluster."""

    def __init__(
        self,
        *,
        local: bool = False,
        home: str | pathlib.Path | None = None,
        kubeconfig: str | None = None,
        context: str | None = None,
        artifacts: str | None = None,
        datasets: str | None = None,
    ) -> None:
        self.backend: Backend
        if local:
            self.backend = embedded.LocalBackend(home)
        else:
            from textclf.cluster import connect  # noqa: PLC0415  (the cli extra)
            from textclf.sdk import cluster  # noqa: PLC0415

            conn = connect.connect(kubeconfig=kubeconfig, context=context)
            self.backend = cluster.ClusterBackend(
                conn, artifacts or cluster.DEFAULT_ARTIFACTS, datasets or cluster.DEFAULT_DATASETS
            )

    def create_app(self, app_id: str) -> App:
        self.backend.create_app(app_id)
        return App(self, app_id)

    def app(self, app_id: str) -> App:
        if not self.backend.has_app(app_id):
            raise embedded.NotFound(f"app {app_id!r} not found under {self.backend.home}")
        return App(self, app_id)

    def list_apps(self) -> list[App]:
        return [App(self, a) for a in self.backend.list_apps()]


@dataclasses.dataclass(frozen=True)
class App:
    client: Client
    id: str

    @property
    def _backend(self) -> Backend:
        return self.client.backend

    def create_dataset(self, dataset_id: str) -> Dataset:
        self._backend.create_dataset(self.id, dataset_id)
        return Dataset(self, dataset_id)

    def dataset(self, dataset_id: str) -> Dataset:
        self._backend.dataset(self.id, dataset_id)
        return Dataset(self, dataset_id)

    def list_datasets(self) -> list[Dataset]:
        return [Dataset(self, d) for d in self._backend.list_datasets(self.id)]

    def list_trainable_model_types(self) -> list[str]:
        """The model types some installed template trains (none before templates are installed)."""
        return trainable_model_types(self._backend)

    def create_model(self, model_id: str, model_type_id: str = "text-classifier") -> Model:
        self._backend.create_model(self.id, model_id, model_type_id)
        return Model(self, model_id)

    def model(self, model_id: str) -> Model:
        self._backend.model(self.id, model_id)
        return Model(self, model_id)

    def list_models(self) -> list[Model]:
        return [Model(self, m) for m in self._backend.list_models(self.id)]


@dataclasses.dataclass(frozen=True)
class Dataset:
    app: App
    id: str

    def upload_from_csv(
        self,
        csv_path: str | pathlib.Path,
        text_column: str | None = None,
        label_column: str | None = None,
        label_separator: str | None = None,
    ) -> upload.UploadReport:
        """Check the file as training will read it, then keep it; ``ValueError`` naming what is
        wrong (columns, no usable rows, too many bad rows) and nothing kept."""
        path = pathlib.Path(csv_path)
        report = upload.check(
            self.id,
            path,
            text_column=text_column,
            label_column=label_column,
            label_separator=label_separator,
        )
        info = dataclasses.asdict(report)
        self.app.client.backend.store_dataset(self.app.id, self.id, path, info)
        return report

    @property
    def info(self) -> dict[str, Any]:
        return self.app.client.backend.dataset(self.app.id, self.id)


@dataclasses.dataclass(frozen=True)
class Model:
    app: App
    id: str

    @property
    def _backend(self) -> Backend:
        return self.app.client.backend

    def list_training_templates(self) -> list[str]:
        return self._backend.templates()

    def get_params(
        self, template: str | None = None, save_to: str | pathlib.Path | None = None
    ) -> dict[str, Any]:
        """The template's defaults with the model's own params over them, ``dataset_id``,
        ``concepts`` and ``template`` included; written as YAML to ``save_to`` if given."""
        stored = dict(self._backend.model(self.app.id, self.id)["params"])
        chosen = str(template or stored.get("template") or DEFAULT_TEMPLATE)
        defaults = self._backend.template_defaults(chosen)
        own = {k: v for k, v in stored.items() if k not in RESERVED_PARAMS}
        merged = {
            "template": chosen,
            "dataset_id": stored.get("dataset_id", ""),
            "concepts": [],
            **trainingtemplate.merge_params(defaults, own),
        }
        if save_to is not None:
            pathlib.Path(save_to).write_text(yaml.safe_dump(merged, sort_keys=False))
        return merged

    def update_params(self, **changes: Any) -> dict[str, Any]:
        """Change the model's params; a key the template's schema does not know is refused by
        name, as is a dataset that was never uploaded."""
        content = self._backend.model(self.app.id, self.id)
        updated = {**content["params"], **changes}
        self._check(updated)
        self._backend.save_model(self.app.id, self.id, {**content, "params": updated})
        return self.get_params()

    def _check(self, given: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """(template, its params) of ``given``, validated."""
        template = str(given.get("template") or DEFAULT_TEMPLATE)
        own = {k: v for k, v in given.items() if k not in RESERVED_PARAMS}
        if not own.get("concepts"):
            own.pop("concepts", None)  # none named: the dataset's concepts
        try:
            self._backend.check_params(template, own)
        except ValueError as err:
            raise ValueError(f"params of model {self.id}: {err}") from None
        dataset = given.get("dataset_id")
        if dataset:
            info = self._backend.dataset(self.app.id, str(dataset))
            if not info.get("uploaded"):
                raise ValueError(f"dataset {dataset!r} has no data yet: upload_from_csv first")
        return template, own

    def train(self, yaml_file: str | pathlib.Path | None = None) -> str:
        """Start training a new version with the model's params (or those in ``yaml_file``, as
        ``get_params(save_to=...)`` wrote them); its id, at once."""
        given = dict(self._backend.model(self.app.id, self.id)["params"])
        if yaml_file is not None:
            given = dict(yaml.safe_load(pathlib.Path(yaml_file).read_text()) or {})
        template, own = self._check(given)
        if not given.get("dataset_id"):
            raise ValueError(f"model {self.id} has no dataset: update_params(dataset_id=...)")
        dataset = self._backend.dataset(self.app.id, str(given["dataset_id"]))
        return self._backend.train(self.app.id, self.id, template, own, dataset)

    def list_versions(self) -> list[str]:
        return self._backend.versions(self.app.id, self.id)

    def training_status(self, version_id: str, training_logs: bool = False) -> TrainingStatus:
        """The version's state; with ``training_logs`` its log is also written to
        ``<version_id>.log`` in the current folder."""
        status = self._backend.status(self.app.id, version_id)
        if training_logs:
            log = "".join(self._backend.log(self.app.id, version_id))
            pathlib.Path(f"{version_id}.log").write_text(log, encoding="utf-8")
        return _training_status(status)

    def wait_for_training(self, version_id: str, timeout: float | None = None) -> TrainingStatus:
        return _training_status(self._backend.wait(self.app.id, version_id, timeout))

    def _trained_version(self, version_id: str | None) -> str:
        if version_id is not None:
            return version_id
        for version in reversed(self.list_versions()):
            if self._backend.status(self.app.id, version).code == codes.StatusCode.TRAINED:
                return version
        raise ValueError(f"model {self.id} has no trained version yet")

    def predict(
        self,
        texts: Sequence[str],
        select_concepts: Sequence[str] | None = None,
        min_value: float | None = None,
        max_concepts: int | None = None,
        version_id: str | None = None,
    ) -> list[list[serving.Concept]]:
        """Per text, every concept with its score (``.id``, ``.value``), highest first."""
        version = self._trained_version(version_id)
        return self._backend.predict(
            self.app.id,
            self.id,
            version,
            list(texts),
            select_concepts=select_concepts,
            min_value=min_value,
            max_concepts=max_concepts,
        )

    def evaluate(self, dataset_id: str, eval_id: str, version_id: str | None = None) -> Evaluation:
        """Start evaluating a trained version on an uploaded dataset; returns at once."""
        version = self._trained_version(version_id)
        dataset = self._backend.dataset(self.app.id, dataset_id)
        if not dataset.get("uploaded"):
            raise ValueError(f"dataset {dataset_id!r} has no data yet: upload_from_csv first")
        artifact = self._backend.artifact(self.app.id, version)
        request = {
            "model": self.id,
            "version_id": version,
            "dataset_id": dataset_id,
            "artifact": artifact.uri,
            "digest": artifact.digest,
            "dataset_uri": dataset["uri"],
            "text_column": dataset["text_column"],
            "label_column": dataset["label_column"],
            "label_separator": dataset.get("label_separator"),
        }
        self._backend.evaluate(self.app.id, eval_id, request)
        return self.get_eval_by_id(eval_id)

    def get_eval_by_id(self, eval_id: str) -> Evaluation:
        request, status = self._backend.evaluation(self.app.id, eval_id)
        if request.get("model") != self.id:
            raise embedded.NotFound(f"evaluation {eval_id!r} is not of model {self.id}")
        return _evaluation(eval_id, request, status)

    def wait_for_evaluation(self, eval_id: str, timeout: float | None = None) -> Evaluation:
        self._backend.wait_evaluation(self.app.id, eval_id, timeout)
        return self.get_eval_by_id(eval_id)

    def list_evaluations(self) -> list[Evaluation]:
        found = []
        for eval_id in self._backend.list_evaluations(self.app.id):
            request, status = self._backend.evaluation(self.app.id, eval_id)
            if request.get("model") == self.id:
                found.append(_evaluation(eval_id, request, status))
        return found

    def evaluation_metrics(self, eval_id: str) -> dict[str, Any]:
        """The full report of a finished evaluation: per concept, curves, confusion matrix."""
        self.get_eval_by_id(eval_id)
        stored = self._backend.evaluation_file(self.app.id, eval_id, modelevaluation.METRICS_FILE)
        metrics: dict[str, Any] = json.loads(stored)["metrics"]
        return metrics


def trainable_model_types(backend: Backend) -> list[str]:
    """The model types of the backend's templates (every template trains ``text-classifier``,
    the one type of this API version)."""
    return list(trainingtemplate.MODEL_TYPES) if backend.templates() else []


def _training_status(status: trainingrun.TrainingRunStatus) -> TrainingStatus:
    code = str(status.code or codes.StatusCode.QUEUED)
    return TrainingStatus(
        code=code,
        description=status.description or codes.describe(code),
        progress=status.progress,
        detail_code=str(status.detail_code) if status.detail_code else None,
        metrics=status.metrics,
    )


def _evaluation(eval_id: str, request: dict[str, Any], status: dict[str, Any]) -> Evaluation:
    summary = status.get("summary")
    return Evaluation(
        id=eval_id,
        version_id=str(request["version_id"]),
        dataset_id=str(request["dataset_id"]),
        status=str(status["code"]),
        description=str(status.get("description") or ""),
        summary=modelevaluation.Summary.model_validate(summary) if summary else None,
    )
