"""The SDK's cluster backend: the same calls as the embedded one (``local``), as Kubernetes objects.

- An app is a namespace labelled ``textclf.io/app`` (created with the Pod Security "restricted"
  profile enforced, as training and serving Pods meet it).
- A dataset is a ConfigMap ``textclf-dataset-<id>`` whose annotation holds what the upload check
  found and its URI in runs: ``configmap://textclf-dataset-<id>/data.csv`` (the file under key
  ``data.csv``) up to a ConfigMap's 1 MiB; above it the file goes to the app's data claim through a
  short-lived uploader Pod (``uploader``): ``pvc://textclf-datasets/<id>/data.csv``.
- A model is a TextClassifierModel; its params (template, params, concepts) are its spec, the
  chosen dataset an annotation.
- Templates are the installed TrainingTemplates of the model type; params are checked against the
  template's own ``paramsSchema`` before anything is created.
- A version is a TrainingRun ``<model>-v<N>``; its status is the operator's; waiting is a watch.
- Predictions go to the served model through the API server (``textclf.cluster.served``).

- An evaluation is a ModelEvaluation the operator runs as a Job; its summary is in its status, its
  full report and per-row scores in the artifact store (``evaluation_file`` reads them).
"""

from __future__ import annotations

import codecs
import json
import pathlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import kubernetes

from textclf.api import (
    GROUP,
    VERSION,
    channels,
    codes,
    modelevaluation,
    serving,
    textclassifiermodel,
    trainingrun,
)
from textclf.api import trainingtemplate as templates_api
from textclf.cluster import connect, served
from textclf.sdk import local, manifests

APP_LABEL = "textclf.io/app"
DATASET_LABEL = "textclf.io/dataset"
INFO_ANNOTATION = "textclf.io/dataset-info"
MODEL_TYPE_ANNOTATION = "textclf.io/model-type"
MODEL_DATASET_ANNOTATION = "textclf.io/dataset"
DATA_KEY = "data.csv"
MAX_CONFIGMAP_BYTES = 1024 * 1024 - 16 * 1024
"""The API server stores at most 1 MiB per ConfigMap; room is left for its metadata."""
DEFAULT_ARTIFACTS = "pvc://textclf-artifacts"
"""Where versions are written unless the Client names another store: ``<store>/<model>/<version>``."""
DEFAULT_UPLOAD_TEMPLATE = "hf-advanced"
"""Whose image runs the uploader Pod (else the first installed template's)."""
DEFAULT_DATASETS = "pvc://textclf-datasets"
"""The claim (in each app's namespace) that holds datasets over a ConfigMap's limit: ``<id>/data.csv``."""


def read_store(uri: str) -> bytes:
    """A file of the artifact store, where this process can reach it: ``s3://`` and ``file://``
    directly, ``pvc://CLAIM/...`` where the claim is mounted (as in a notebook Pod:
    ``$TEXTCLF_PVC_ROOT/CLAIM``, by default under /mnt/textclf/pvc); ``ValueError`` says why not."""
    from textclf_trainer import errors, storage  # noqa: PLC0415  (fsspec, no torch)

    try:
        return storage.read_bytes(uri)
    except errors.TrainerError as err:
        raise ValueError(
            f"{uri} cannot be read from here ({err.message}): mount the claim (a notebook Pod) "
            "or use an s3:// store"
        ) from None


def dataset_configmap(dataset: str) -> str:
    return f"textclf-dataset-{dataset}"


def _missing(err: kubernetes.client.ApiException) -> bool:
    return bool(err.status == 404)


class ClusterBackend:
    def __init__(
        self,
        conn: connect.Connection,
        artifacts: str = DEFAULT_ARTIFACTS,
        datasets: str = DEFAULT_DATASETS,
    ) -> None:
        if not datasets.startswith("pvc://") or not datasets.removeprefix("pvc://").strip("/"):
            raise ValueError(f"datasets={datasets!r}: give a claim of each app, pvc://CLAIM")
        self.conn = conn
        self.datasets = datasets.removeprefix("pvc://").strip("/")
        self.home = f"the cluster of the current kubeconfig context ({conn.api.configuration.host})"
        self.artifacts = artifacts.rstrip("/")
        self.core = kubernetes.client.CoreV1Api(conn.api)
        self.custom = kubernetes.client.CustomObjectsApi(conn.api)

    # --- apps ------------------------------------------------------------------------------------

    def create_app(self, app: str) -> None:
        body = {
            "metadata": {
                "name": local.check_id("app", app),
                "labels": {APP_LABEL: "true", "pod-security.kubernetes.io/enforce": "restricted"},
            }
        }
        try:
            self.core.create_namespace(cast("Any", body))
        except kubernetes.client.ApiException as err:
            if err.status == 409:
                raise ValueError(f"app {app!r} already exists (a namespace of that name)") from None
            raise

    def has_app(self, app: str) -> bool:
        try:
            found: Any = self.core.read_namespace(app)
        except kubernetes.client.ApiException as err:
            if _missing(err):
                return False
            raise
        return (found.metadata.labels or {}).get(APP_LABEL) == "true"

    def _app(self, app: str) -> None:
        if not self.has_app(app):
            raise local.NotFound(f"app {app!r} not found (no namespace labelled {APP_LABEL})")

    def list_apps(self) -> list[str]:
        found: list[Any] = self.core.list_namespace(label_selector=f"{APP_LABEL}=true").items
        return sorted(str(n.metadata.name) for n in found)

    # --- datasets --------------------------------------------------------------------------------

    def create_dataset(self, app: str, dataset: str) -> None:
        self._app(app)
        body = {
            "metadata": {
                "name": dataset_configmap(local.check_id("dataset", dataset)),
                "labels": {DATASET_LABEL: dataset},
                "annotations": {INFO_ANNOTATION: json.dumps({"id": dataset, "uploaded": False})},
            }
        }
        try:
            self.core.create_namespaced_config_map(app, cast("Any", body))
        except kubernetes.client.ApiException as err:
            if err.status == 409:
                raise ValueError(f"dataset {dataset!r} already exists in app {app!r}") from None
            raise

    def dataset(self, app: str, dataset: str) -> dict[str, Any]:
        try:
            found: Any = self.core.read_namespaced_config_map(dataset_configmap(dataset), app)
        except kubernetes.client.ApiException as err:
            if _missing(err):
                raise local.NotFound(f"dataset {dataset!r} not found in app {app!r}") from None
            raise
        info: dict[str, Any] = json.loads((found.metadata.annotations or {})[INFO_ANNOTATION])
        return info

    def list_datasets(self, app: str) -> list[str]:
        found: list[Any] = self.core.list_namespaced_config_map(
            app, label_selector=DATASET_LABEL
        ).items
        return sorted(str(c.metadata.labels[DATASET_LABEL]) for c in found)

    def store_dataset(
        self, app: str, dataset: str, source: pathlib.Path, info: dict[str, Any]
    ) -> None:
        self.dataset(app, dataset)
        size = source.stat().st_size
        data: dict[str, str | None] = {DATA_KEY: None}
        if size <= MAX_CONFIGMAP_BYTES:
            uri = f"configmap://{dataset_configmap(dataset)}/{DATA_KEY}"
            data = {DATA_KEY: source.read_text(encoding="utf-8")}
        else:
            uri = self._upload(app, dataset, source)
        content = {**info, "id": dataset, "uploaded": True, "uri": uri, "bytes": size}
        self.core.patch_namespaced_config_map(
            dataset_configmap(dataset),
            app,
            {"metadata": {"annotations": {INFO_ANNOTATION: json.dumps(content)}}, "data": data},
        )

    def _upload(self, app: str, dataset: str, source: pathlib.Path) -> str:
        """The file on the app's data claim, by an uploader Pod of the installed trainer image."""
        from textclf.sdk import uploader  # noqa: PLC0415

        found = self._templates()
        if not found:
            raise ValueError(
                f"{source} is over a ConfigMap's {MAX_CONFIGMAP_BYTES} bytes, and the uploader "
                "needs the trainer image of an installed TrainingTemplate: none is installed"
            )
        image = str((found.get(DEFAULT_UPLOAD_TEMPLATE) or found[min(found)])["image"])
        held: Any = self.core.read_namespaced_config_map(dataset_configmap(dataset), app)
        owner = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "name": held.metadata.name,
            "uid": held.metadata.uid,
        }
        return uploader.Uploader(connect.Connection(self.conn.api, app), image).upload(
            source, dataset, claim=self.datasets, path=f"{dataset}/{DATA_KEY}", owner=owner
        )

    # --- models ----------------------------------------------------------------------------------

    def _tcm(self, app: str, model: str) -> dict[str, Any]:
        conn = connect.Connection(self.conn.api, app)
        try:
            return connect.read(conn, textclassifiermodel.PLURAL, textclassifiermodel.KIND, model)
        except connect.Missing:
            raise local.NotFound(f"model {model!r} not found in app {app!r}") from None

    def create_model(self, app: str, model: str, model_type_id: str) -> None:
        self._app(app)
        if model_type_id not in templates_api.MODEL_TYPES:
            raise ValueError(
                f"model type {model_type_id!r} is not trainable here; "
                f"trainable: {', '.join(templates_api.MODEL_TYPES)}"
            )
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": textclassifiermodel.KIND,
            "metadata": {
                "name": local.check_id("model", model),
                "annotations": {MODEL_TYPE_ANNOTATION: model_type_id},
            },
            "spec": {},
        }
        try:
            self.custom.create_namespaced_custom_object(
                GROUP, VERSION, app, textclassifiermodel.PLURAL, body
            )
        except kubernetes.client.ApiException as err:
            if err.status == 409:
                raise ValueError(f"model {model!r} already exists in app {app!r}") from None
            raise

    def model(self, app: str, model: str) -> dict[str, Any]:
        body = self._tcm(app, model)
        spec, meta = body.get("spec") or {}, body["metadata"]
        params: dict[str, Any] = dict(spec.get("params") or {})
        if spec.get("template"):
            params["template"] = spec["template"]
        dataset = (meta.get("annotations") or {}).get(MODEL_DATASET_ANNOTATION)
        if dataset:
            params["dataset_id"] = dataset
        kind = (meta.get("annotations") or {}).get(MODEL_TYPE_ANNOTATION, "text-classifier")
        return {"id": model, "model_type_id": kind, "params": params}

    def save_model(self, app: str, model: str, content: Mapping[str, Any]) -> None:
        given = dict(content["params"])
        template, dataset = given.pop("template", None), given.pop("dataset_id", None)
        spec: dict[str, Any] = {"params": given or None, "template": template}
        if given.get("concepts"):
            spec["concepts"] = list(given["concepts"])
        patch = {"spec": spec, "metadata": {"annotations": {MODEL_DATASET_ANNOTATION: dataset}}}
        self.custom.patch_namespaced_custom_object(
            GROUP, VERSION, app, textclassifiermodel.PLURAL, model, patch
        )

    def list_models(self, app: str) -> list[str]:
        found = self.custom.list_namespaced_custom_object(
            GROUP, VERSION, app, textclassifiermodel.PLURAL
        )
        return sorted(m["metadata"]["name"] for m in cast("dict[str, Any]", found)["items"])

    # --- templates -------------------------------------------------------------------------------

    def _templates(self) -> dict[str, dict[str, Any]]:
        found = self.custom.list_cluster_custom_object(GROUP, VERSION, templates_api.PLURAL)
        return {
            t["metadata"]["name"]: t.get("spec") or {}
            for t in cast("dict[str, Any]", found)["items"]
            if (t.get("spec") or {}).get("modelType", "text-classifier") == "text-classifier"
        }

    def templates(self) -> list[str]:
        return sorted(self._templates())

    def _template(self, template: str) -> dict[str, Any]:
        found = self._templates()
        if template not in found:
            raise ValueError(
                f"template {template!r} is not installed; installed: {', '.join(sorted(found))}"
            )
        return found[template]

    def template_defaults(self, template: str) -> dict[str, Any]:
        return dict(self._template(template).get("defaults") or {})

    def template_schema(self, template: str) -> dict[str, Any]:
        """The TrainingTemplate's ``paramsSchema`` (empty: any params)."""
        return dict(self._template(template).get("paramsSchema") or {})

    def check_params(self, template: str, params: Mapping[str, Any]) -> None:
        spec = self._template(template)
        schema = spec.get("paramsSchema")
        if not schema:
            return
        merged = templates_api.merge_params(spec.get("defaults") or {}, params)
        problem = templates_api.params_problem(schema, merged)
        if problem:
            raise ValueError(problem)

    # --- training --------------------------------------------------------------------------------

    def _runs(self, app: str) -> list[dict[str, Any]]:
        found = self.custom.list_namespaced_custom_object(GROUP, VERSION, app, trainingrun.PLURAL)
        return cast("list[dict[str, Any]]", cast("dict[str, Any]", found)["items"])

    def versions(self, app: str, model: str) -> list[str]:
        runs = [r for r in self._runs(app) if r["spec"]["modelRef"]["name"] == model]
        runs.sort(key=lambda r: (r["metadata"]["creationTimestamp"], r["metadata"]["name"]))
        return [r["metadata"]["name"] for r in runs]

    def train(
        self,
        app: str,
        model: str,
        template: str,
        params: Mapping[str, Any],
        dataset: Mapping[str, Any],
    ) -> str:
        number = len(self.versions(app, model)) + 1
        while True:
            version = f"{model}-v{number}"
            output = f"{self.artifacts}/{model}/{version}"
            body = manifests.training_run(
                version,
                model=model,
                template=template,
                params=params,
                dataset=dataset,
                output=output,
            )
            try:
                self.custom.create_namespaced_custom_object(
                    GROUP, VERSION, app, trainingrun.PLURAL, body
                )
            except kubernetes.client.ApiException as err:
                if err.status == 409:  # a version of that number exists: the next one
                    number += 1
                    continue
                if err.status == 422:
                    raise ValueError(f"the API server refused the run: {err.body}") from None
                raise
            return version

    def _run(self, app: str, version: str) -> dict[str, Any]:
        conn = connect.Connection(self.conn.api, app)
        try:
            return connect.read(conn, trainingrun.PLURAL, trainingrun.KIND, version)
        except connect.Missing:
            raise local.NotFound(f"version {version!r} not found in app {app!r}") from None

    @staticmethod
    def _status(body: Mapping[str, Any]) -> trainingrun.TrainingRunStatus:
        status = dict(body.get("status") or {})
        status.setdefault("code", codes.StatusCode.QUEUED)
        return trainingrun.TrainingRunStatus.model_validate(status)

    def status(self, app: str, version: str) -> trainingrun.TrainingRunStatus:
        return self._status(self._run(app, version))

    def wait(
        self,
        app: str,
        version: str,
        timeout: float | None,
        on_status: Callable[[trainingrun.TrainingRunStatus], None] | None = None,
    ) -> trainingrun.TrainingRunStatus:
        """A watch on the run from the version just read: returns on the first terminal status;
        ``on_status`` sees every status on the way (the CLI's progress bar)."""

        def finished(body: Mapping[str, Any]) -> bool:
            status = self._status(body)
            if on_status is not None:
                on_status(status)
            return status.code in local.TERMINAL

        return self._status(
            self._watch(app, trainingrun.PLURAL, self._run(app, version), finished, timeout)
        )

    def _watch(
        self,
        app: str,
        plural: str,
        body: Mapping[str, Any],
        finished: Callable[[Mapping[str, Any]], bool],
        timeout: float | None,
    ) -> Mapping[str, Any]:
        """Watch one object of ``plural`` from ``body`` (just read) until ``finished`` says so."""
        if finished(body):
            return body
        name = body["metadata"]["name"]
        watch = kubernetes.watch.Watch()  # type: ignore[no-untyped-call]
        options: dict[str, Any] = {
            "field_selector": f"metadata.name={name}",
            "resource_version": body["metadata"]["resourceVersion"],
        }
        if timeout is not None:
            options["timeout_seconds"] = max(1, int(timeout))
        for event in watch.stream(  # type: ignore[no-untyped-call]
            self.custom.list_namespaced_custom_object, GROUP, VERSION, app, plural, **options
        ):
            if finished(event["object"]):
                watch.stop()  # type: ignore[no-untyped-call]
                return cast("Mapping[str, Any]", event["object"])
        raise TimeoutError(f"{name} still not finished after {timeout} s")

    def _wait_started(self, app: str, pod: str) -> None:
        """Until the Pod is past Pending (its container's log can be streamed)."""
        watch = kubernetes.watch.Watch()  # type: ignore[no-untyped-call]
        try:
            for event in watch.stream(  # type: ignore[no-untyped-call]
                self.core.list_namespaced_pod, app, field_selector=f"metadata.name={pod}"
            ):
                if event["type"] == "DELETED" or event["object"].status.phase != "Pending":
                    return
        finally:
            watch.stop()  # type: ignore[no-untyped-call]

    def log(self, app: str, version: str, follow: bool = False) -> Iterator[str]:
        """The training Pod's log while it can be read (``follow``: streamed until the container
        ends); else the log the trainer kept in the artifact; else a line that says why neither."""
        pods: list[Any] = self.core.list_namespaced_pod(
            app, label_selector=f"textclf.io/run={version}"
        ).items
        why = f"no training Pod of {version} exists any more"
        if pods:
            newest = max(pods, key=lambda p: p.metadata.creation_timestamp)
            pod = newest.metadata.name
            try:
                if follow:
                    if newest.status.phase == "Pending":
                        yield f"# waiting for Pod {pod} to start\n"
                        self._wait_started(app, pod)
                    response: Any = self.core.read_namespaced_pod_log(
                        pod, app, follow=True, _preload_content=False
                    )
                    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
                    for chunk in response.stream():
                        yield decoder.decode(chunk)  # a character may straddle two chunks
                    yield decoder.decode(b"", final=True)
                    return
                found = self.core.read_namespaced_pod_log(pod, app)
                if isinstance(found, str):
                    yield found
                    return
                why = f"Pod {pod} has no log"
            except kubernetes.client.ApiException as err:
                why = f"the log of Pod {pod} cannot be read ({err.reason})"
        status = self.status(app, version)
        if status.artifact is None:
            yield f"# {why}, and the version has no artifact (yet)\n"
            return
        uri = f"{status.artifact.uri.rstrip('/')}/{channels.ARTIFACT_LOG}"
        try:
            kept = read_store(uri).decode(errors="replace")
        except ValueError as err:
            yield f"# {why}; {err}\n"
            return
        yield f"# {why}: the log the trainer kept in its artifact, {uri}\n{kept}"

    def predict(
        self, app: str, model: str, version: str, texts: list[str], **options: Any
    ) -> list[list[serving.Concept]]:
        """Through the served model; ``version`` must be the one it serves."""
        body = self._tcm(app, model)
        serving_now = ((body.get("status") or {}).get("serving") or {}).get("version")
        if serving_now and serving_now != version:
            raise ValueError(
                f"model {model} serves version {serving_now}, not {version}: set "
                f"spec.serving.version: {version} to serve it"
            )
        conn = connect.Connection(self.conn.api, app)
        try:
            return served.predict(conn, model, texts, **options)
        except served.NotServed as err:
            raise ValueError(str(err)) from None

    # --- evaluations -----------------------------------------------------------------------------

    def evaluate(self, app: str, evaluation: str, request: Mapping[str, Any]) -> None:
        """A ModelEvaluation of the version; the operator runs it as a Job."""
        dataset = {
            "uri": request["dataset_uri"],
            "text_column": request["text_column"],
            "label_column": request["label_column"],
            "label_separator": request.get("label_separator"),
        }
        body = manifests.model_evaluation(
            evaluation,
            model=str(request["model"]),
            version=str(request["version_id"]),
            dataset_id=str(request["dataset_id"]),
            dataset=dataset,
        )
        try:
            self.custom.create_namespaced_custom_object(
                GROUP, VERSION, app, modelevaluation.PLURAL, body
            )
        except kubernetes.client.ApiException as err:
            if err.status == 409:
                raise ValueError(
                    f"evaluation {evaluation!r} already exists in app {app!r}"
                ) from None
            if err.status == 422:
                raise ValueError(f"the API server refused the evaluation: {err.body}") from None
            raise

    def _evaluation(self, app: str, evaluation: str) -> dict[str, Any]:
        conn = connect.Connection(self.conn.api, app)
        try:
            return connect.read(conn, modelevaluation.PLURAL, modelevaluation.KIND, evaluation)
        except connect.Missing:
            raise local.NotFound(f"evaluation {evaluation!r} not found in app {app!r}") from None

    @staticmethod
    def _evaluation_status(body: Mapping[str, Any]) -> modelevaluation.ModelEvaluationStatus:
        status = dict(body.get("status") or {})
        status.setdefault("code", codes.EvaluationCode.QUEUED)
        return modelevaluation.ModelEvaluationStatus.model_validate(status)

    @staticmethod
    def _described(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(request, status) as the SDK's Evaluation reads them."""
        spec, meta = body["spec"], body["metadata"]
        status = ClusterBackend._evaluation_status(body)
        request = {
            "model": spec["modelRef"]["name"],
            "version_id": status.version or spec.get("version") or "",
            "dataset_id": (meta.get("labels") or {}).get(manifests.DATASET_LABEL)
            or spec["dataset"]["uri"],
        }
        code = str(status.code)
        return request, {
            "code": code,
            "detail_code": status.detail_code,
            "description": status.description or modelevaluation.describe(code),
            "summary": status.summary.to_wire() if status.summary else None,
        }

    def evaluation(self, app: str, evaluation: str) -> tuple[dict[str, Any], dict[str, Any]]:
        return self._described(self._evaluation(app, evaluation))

    def wait_evaluation(self, app: str, evaluation: str, timeout: float | None) -> dict[str, Any]:
        """A watch on the evaluation until the operator writes a final code."""
        done = (codes.EvaluationCode.EVALUATED, codes.EvaluationCode.FAILED)
        body = self._watch(
            app,
            modelevaluation.PLURAL,
            self._evaluation(app, evaluation),
            lambda b: self._evaluation_status(b).code in done,
            timeout,
        )
        return self._described(body)[1]

    def evaluation_file(self, app: str, evaluation: str, name: str) -> bytes:
        """A file of the evaluation's output, read from the artifact store where this process can
        reach it: ``s3://`` and ``file://`` directly, ``pvc://CLAIM/...`` where the claim is mounted
        (as in a notebook Pod: ``$TEXTCLF_PVC_ROOT/CLAIM``, by default under /mnt/textclf/pvc)."""
        status = self._evaluation_status(self._evaluation(app, evaluation))
        if status.output is None or status.code != codes.EvaluationCode.EVALUATED:
            raise local.NotFound(f"evaluation {evaluation!r} is {status.code}: it has no {name}")
        return read_store(f"{status.output.uri.rstrip('/')}/{name}")

    def list_evaluations(self, app: str) -> list[str]:
        found = self.custom.list_namespaced_custom_object(
            GROUP, VERSION, app, modelevaluation.PLURAL
        )
        items = cast("list[dict[str, Any]]", cast("dict[str, Any]", found)["items"])
        items.sort(key=lambda e: (e["metadata"]["creationTimestamp"], e["metadata"]["name"]))
        return [e["metadata"]["name"] for e in items]

    def artifact(self, app: str, version: str) -> trainingrun.Artifact:
        status = self.status(app, version)
        if status.code != codes.StatusCode.TRAINED or status.artifact is None:
            raise ValueError(f"version {version} is {status.code}, not {codes.StatusCode.TRAINED}")
        return status.artifact
