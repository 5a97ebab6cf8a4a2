"""Predictions from a model served on the cluster, through the API server's service proxy.

``POST /api/v1/namespaces/{ns}/services/{model}-predictor:http/proxy/v1/models/{model}:predict``
reaches the model's predictor Service with the caller's own credentials and RBAC (``create`` on
``services/proxy``), so no port-forward, Ingress or second login is needed. Texts go in requests of
at most ``serving.MAX_INSTANCES``; the answers come back in order as ``serving.Concept`` lists, the
same objects a local prediction returns.

Every failure is a ``NotServed`` that says what to do: the model does not exist, is not served, has
no ready predictor (with the model's own Serving condition), or the predictor refused the request
(its ``{"error"}`` message: an unknown concept, a text too long).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from textclf.api import conditions, serving, textclassifiermodel
from textclf.cluster import connect
from textclf.cluster.connect import Connection

TIMEOUT_SECONDS = 60.0


class NotServed(RuntimeError):
    """A prediction the served model cannot give; the message says why and what to do."""


def proxy_path(namespace: str, model: str, route: str) -> str:
    """The API server path that reaches ``route`` (``/v1/...``) of the model's predictor Service."""
    service = f"{serving.predictor_name(model)}:{serving.PORT_NAME}"
    return f"/api/v1/namespaces/{namespace}/services/{service}/proxy{route}"


def _model(conn: Connection, model: str) -> dict[str, Any]:
    try:
        return connect.read(conn, textclassifiermodel.PLURAL, textclassifiermodel.KIND, model)
    except connect.Missing as err:
        raise NotServed(str(err)) from None


def _serving_condition(body: dict[str, Any]) -> str:
    for condition in (body.get("status") or {}).get("conditions") or []:
        if condition.get("type") == conditions.SERVING:
            return f"{condition.get('reason')}: {condition.get('message', '')}".rstrip(": ")
    return "the operator has not reported on serving yet"


def _post(conn: Connection, model: str, payload: dict[str, Any], timeout: float) -> Any:
    method, url, headers, body, post = conn.api.param_serialize(
        method="POST",
        resource_path=proxy_path(conn.namespace, model, serving.v1_predict_path(model)),
        header_params={"Content-Type": "application/json", "Accept": "application/json"},
        body=payload,
        auth_settings=["BearerToken"],
    )
    response = conn.api.call_api(method, url, headers, body, post, _request_timeout=timeout)
    response.read()  # type: ignore[no-untyped-call]
    return response


def _refusal(response: Any) -> str:
    """What the predictor (``{"error"}``) or the API server (a Status) said, in one line."""
    try:
        said = json.loads(response.data)
    except (ValueError, TypeError):
        return bytes(response.data or b"").decode(errors="replace").strip()[:500]
    if isinstance(said, dict):
        return str(said.get("error") or said.get("message") or said)
    return str(said)


def predict(
    conn: Connection,
    model: str,
    texts: Sequence[str],
    *,
    select_concepts: Sequence[str] | None = None,
    min_value: float | None = None,
    max_concepts: int | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> list[list[serving.Concept]]:
    """Each text's concepts, highest first, after the output config."""
    body = _model(conn, model)
    if not ((body.get("spec") or {}).get("serving") or {}).get("enabled"):
        raise NotServed(
            f"model {model} is not served: set spec.serving.enabled: true "
            f"(kubectl -n {conn.namespace} patch textclassifiermodel {model} --type merge "
            """-p '{"spec":{"serving":{"enabled":true}}}')"""
        )
    parameters: dict[str, Any] = {}
    if select_concepts:
        parameters["select_concepts"] = list(select_concepts)
    if min_value is not None:
        parameters["min_value"] = min_value
    if max_concepts is not None:
        parameters["max_concepts"] = max_concepts
    answers: list[list[serving.Concept]] = []
    for start in range(0, len(texts), serving.MAX_INSTANCES):
        chunk = list(texts[start : start + serving.MAX_INSTANCES])
        response = _post(conn, model, {"instances": chunk, "parameters": parameters}, timeout)
        if response.status >= 500 or response.status == 404:
            # 503 "no endpoints available": no ready predictor; 502: it cannot be reached
            raise NotServed(
                f"the predictor of model {model} did not answer ({response.status}: "
                f"{_refusal(response)}); the model's Serving condition says "
                f"{_serving_condition(_model(conn, model))}"
            )
        if response.status != 200:
            raise NotServed(f"the predictor of model {model} refused: {_refusal(response)}")
        predictions = json.loads(response.data)["predictions"]
        answers += [
            [serving.Concept(str(c["id"]), float(c["value"])) for c in p["concepts"]]
            for p in predictions
        ]
    return answers
