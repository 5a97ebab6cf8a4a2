"""The training Job, built by a pure function, compared whole with the expected manifest.

Regenerate the expected file after a deliberate change with
``TEXTCLF_UPDATE_GOLDEN=1 pytest tests/operator/test_builders.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

import pytest
import yaml

from textclf.api import channels, codes, trainingrun, trainingtemplate
from textclf_operator import builders, config, params

DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "operator"
RUN = {
    "metadata": {"name": "reviews-v1", "namespace": "demo", "uid": "0f6c-run-uid"},
}
SPEC = trainingrun.TrainingRunSpec.model_validate(
    yaml.safe_load(
        (
            pathlib.Path(__file__).resolve().parents[2]
            / "examples"
            / "kubernetes"
            / "reviews-run.yaml"
        ).read_text()
    )["spec"]
)
TEMPLATE = trainingtemplate.TrainingTemplateSpec(
    image="textclf/trainer:0.1.0",
    defaults={"trainer_config": {"num_train_epochs": 1, "seed": 7}},
    resources=trainingtemplate.TemplateResources(cpu="2", memory="8Gi"),
)


def _job() -> dict[str, Any]:
    merged = params.merge(TEMPLATE.defaults, SPEC.params)
    return builders.job(
        run=RUN,
        spec=SPEC,
        template=TEMPLATE,
        merged_params=merged,
        settings=config.Config(),
    )


def test_job_matches_expected_manifest() -> None:
    expected = DATA / "reviews-v1-job.yaml"
    built = _job()
    if os.environ.get("TEXTCLF_UPDATE_GOLDEN"):
        expected.write_text(yaml.safe_dump(built, sort_keys=True, width=100))
    assert built == yaml.safe_load(expected.read_text())


def test_run_spec_annotation_is_the_run_with_merged_params() -> None:
    pod = _job()["spec"]["template"]
    doc = json.loads(pod["metadata"]["annotations"][builders.RUN_SPEC_ANNOTATION])
    assert doc["metadata"] == {"name": "reviews-v1", "namespace": "demo", "uid": "0f6c-run-uid"}
    # run params win over template defaults; untouched defaults survive
    assert doc["spec"]["params"]["trainer_config"] == {
        "num_train_epochs": 3,
        "learning_rate": 5.0e-5,
        "seed": 7,
    }
    assert trainingrun.TrainingRunSpec.model_validate(doc["spec"]).dataset == SPEC.dataset


def test_pod_meets_restricted_profile() -> None:
    pod = _job()["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    for container in pod["containers"]:
        ctx = container["securityContext"]
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["capabilities"] == {"drop": ["ALL"]}
        assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}


def test_failure_policy_follows_exit_codes() -> None:
    rules = builders.pod_failure_policy()["rules"]
    assert rules[0]["onExitCodes"]["values"] == sorted(
        int(code) for code in codes.EXIT_CODE_FOR_DETAIL.values()
    )
    assert codes.ExitCode.INFRASTRUCTURE not in rules[0]["onExitCodes"]["values"]


@pytest.mark.parametrize(
    ("run_resources", "cpu", "gpu"),
    [(None, "2", None), ({"cpu": 4}, "4", None), ({"gpu": 1}, "2", "1"), ({"gpu": 2}, "2", "2")],
)
def test_resources_fall_back_to_the_template(
    run_resources: dict[str, Any] | None, cpu: str, gpu: str | None
) -> None:
    spec = SPEC.model_copy(
        update={
            "resources": trainingrun.Resources.model_validate(run_resources)
            if run_resources
            else None
        }
    )
    job = builders.job(
        run=RUN,
        spec=spec,
        template=TEMPLATE,
        merged_params={},
        settings=config.Config(),
    )
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"]["cpu"] == cpu
    assert container["resources"]["limits"].get("nvidia.com/gpu") == gpu
    # one DDP rank per GPU, only when there is more than one
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env.get(channels.NPROC_PER_NODE_ENV) == (gpu if gpu and int(gpu) > 1 else None)


def test_params_problems_name_the_key() -> None:
    schema = {
        "type": "object",
        "properties": {
            "trainer_config": {"type": "object", "properties": {"lr": {"type": "number"}}}
        },
        "additionalProperties": False,
    }
    found = params.problems({"trainer_config": {"lr": "fast"}, "epochs": 3}, schema)
    assert any(p.startswith("params.trainer_config.lr:") for p in found)
    assert any("'epochs'" in p for p in found)
    assert params.problems({"trainer_config": {"lr": 0.1}}, schema) == []
