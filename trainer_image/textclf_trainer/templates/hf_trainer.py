"""Hugging Face Trainer plumbing shared by ``hf-advanced`` and ``hf-lora``: tokenizer and model loading
with the run's label maps, tokenised datasets for dynamic padding, TrainingArguments from
``trainer_config`` over fast defaults, validation macro F1 for checkpoint selection, and progress.

Defaults the user may override in ``trainer_config``: dynamic padding (``DataCollatorWithPadding``),
``train_sampling_strategy=group_by_length``, bf16 where the GPU supports it, the run's seed. With a
validation split: evaluate and save each epoch and keep the best checkpoint by ``macro_f1``.
Attention: transformers picks SDPA by default where the backbone supports it (``attn_implementation``
in ``model_config`` overrides).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch
import transformers
from sklearn import metrics as skm

from textclf_trainer import artifacts, errors, evaluation, examples, hardware, params, progress
from textclf_trainer.templates import base

LOG_EVENTS = 50
"""About this many loss logs (and progress events) per run."""
RESERVED_ARGS = frozenset({"output_dir"})


def load_tokenizer(job: base.TrainJob) -> Any:
    kwargs = params.from_pretrained_kwargs(job.params.get("tokenizer_config"))
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(job.backbone, **kwargs)
    except (OSError, ValueError) as exc:
        raise errors.invalid_params(
            f"params.model_config.{params.BACKBONE_KEY}: cannot load a tokenizer from "
            f"{job.backbone!r} ({exc})"
        ) from exc
    if tokenizer.pad_token is None:  # decoder backbones (GPT-2, Llama) have none
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(job: base.TrainJob, tokenizer: Any) -> Any:
    id2label, label2id = artifacts.label_maps(job.concepts)
    kwargs = params.from_pretrained_kwargs(job.params.get("model_config"))
    problem = "multi_label_classification" if job.multi_label else "single_label_classification"
    try:
        model = transformers.AutoModelForSequenceClassification.from_pretrained(
            job.backbone,
            num_labels=len(job.concepts),
            id2label=id2label,
            label2id=label2id,
            problem_type=problem,
            **kwargs,
        )
    except OSError as exc:
        raise errors.invalid_params(
            f"params.model_config.{params.BACKBONE_KEY}: cannot load {job.backbone!r} ({exc})"
        ) from exc
    except (TypeError, ValueError) as exc:
        raise errors.invalid_params(f"params.model_config: {exc}") from exc
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    return model


def tokenize(job: base.TrainJob, tokenizer: Any, data: examples.Examples) -> list[dict[str, Any]]:
    """One feature dict per example, unpadded (the collator pads each batch to its longest)."""
    encoded = tokenizer(list(data.texts), truncation=True, max_length=job.max_length)
    y = evaluation.targets(data.labels, job.concepts, job.multi_label)
    features = []
    for i in range(len(data)):
        item = {key: encoded[key][i] for key in encoded}
        item["labels"] = [float(v) for v in y[i]] if job.multi_label else int(y[i])
        features.append(item)
    return features


def training_arguments(job: base.TrainJob) -> Any:
    """TrainingArguments: the run's ``trainer_config`` over the trainer's defaults. Called before
    the model loads, so a bad ``trainer_config`` fails in seconds."""
    n_train = len(job.train)
    config = dict(job.params.get("trainer_config") or {})
    known = {f.name for f in dataclasses.fields(transformers.TrainingArguments)}
    unknown = sorted(set(config) - known)
    if unknown:
        raise errors.invalid_params(
            f"params.trainer_config.{unknown[0]}: not a TrainingArguments field"
        )
    reserved = sorted(set(config) & RESERVED_ARGS)
    if reserved:
        raise errors.invalid_params(f"params.trainer_config.{reserved[0]}: set by the trainer")
    batch = int(config.get("per_device_train_batch_size", 8)) * int(
        config.get("gradient_accumulation_steps", 1)
    )
    steps = max(1, -(-n_train // batch)) * float(config.get("num_train_epochs", 3))
    defaults: dict[str, Any] = {
        "output_dir": str(job.work_dir / "checkpoints"),
        "report_to": "none",
        "disable_tqdm": True,
        "seed": job.seed,
        "data_seed": job.seed,
        "logging_strategy": "steps",
        "logging_steps": max(1, int(steps // LOG_EVENTS)),
        "save_strategy": "no",
        "eval_strategy": "no",
        "bf16": hardware.bf16_supported(),
        "dataloader_pin_memory": torch.cuda.is_available(),
    }
    if job.validation is not None:
        defaults.update(
            eval_strategy="epoch",
            save_strategy="epoch",
            save_total_limit=1,
            save_only_model=True,
            load_best_model_at_end=True,
            metric_for_best_model="macro_f1",
            greater_is_better=True,
        )
    try:
        return transformers.TrainingArguments(**{**defaults, **config})
    except (TypeError, ValueError) as exc:
        raise errors.invalid_params(f"params.trainer_config: {exc}") from exc


def compute_metrics_for(job: base.TrainJob) -> Any:
    """Validation metrics for checkpoint selection: macro F1 (and accuracy)."""

    def compute(prediction: Any) -> dict[str, float]:
        logits, labels = prediction.predictions, prediction.label_ids
        if job.multi_label:
            predicted = (logits >= 0).astype(int)  # sigmoid(x) >= 0.5
            truth = labels.astype(int)
        else:
            predicted = np.argmax(logits, axis=1)
            truth = labels
        return {
            "macro_f1": float(skm.f1_score(truth, predicted, average="macro", zero_division=0)),
            "accuracy": float(skm.accuracy_score(truth, predicted)),
        }

    return compute


class ProgressCallback(transformers.TrainerCallback):
    """Forwards the Trainer's steps and logs to the run's progress tracker and training log."""

    def __init__(self, tracker: progress.Tracker, log: progress.Log) -> None:
        self.tracker = tracker
        self.log = log

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.tracker.step(0, state.max_steps, epoch=0.0)

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        logs = logs or {}
        self.log.add({"trainer": logs, "step": state.global_step, "epoch": state.epoch})
        if "loss" in logs:
            self.tracker.step(
                state.global_step, state.max_steps, epoch=state.epoch, loss=float(logs["loss"])
            )


def fit(job: base.TrainJob, args: Any, model: Any, tokenizer: Any) -> Any:
    """Train ``model`` with the Trainer; returns the trained (best, if validating) model."""
    train_features = tokenize(job, tokenizer, job.train)
    eval_features = tokenize(job, tokenizer, job.validation) if job.validation else None
    trainer = transformers.Trainer(
        model=model,
        args=args,
        train_dataset=train_features,
        eval_dataset=eval_features,
        processing_class=tokenizer,
        data_collator=transformers.DataCollatorWithPadding(tokenizer),
        compute_metrics=compute_metrics_for(job) if eval_features else None,
        callbacks=[ProgressCallback(job.tracker, job.log)],
    )
    # With disable_tqdm the Trainer prints raw log dicts to stdout, which carries JSON lines here.
    trainer.remove_callback(transformers.PrinterCallback)
    try:
        trainer.train()
    except torch.cuda.OutOfMemoryError as exc:
        raise errors.InfrastructureError(
            f"GPU out of memory ({exc}); lower params.trainer_config.per_device_train_batch_size "
            "or params.max_length, or request a larger GPU"
        ) from exc
    if trainer.state.best_model_checkpoint:
        job.log.add(
            {
                "best_checkpoint": trainer.state.best_model_checkpoint.rsplit("/", 1)[-1],
                "best_metric": trainer.state.best_metric,
            }
        )
    return trainer.model


def save(job: base.TrainJob, model: Any, tokenizer: Any) -> artifacts.Metadata:
    """Write model and tokenizer (safetensors) and the metadata into the job's model folder."""
    model.save_pretrained(str(job.model_dir))
    tokenizer.save_pretrained(str(job.model_dir))
    metadata = artifacts.Metadata(
        kind="sequence-classification",
        template=job.template,
        concepts=job.concepts,
        multi_label=job.multi_label,
        max_length=job.max_length,
    )
    artifacts.write_metadata(job.model_dir, metadata)
    return metadata
