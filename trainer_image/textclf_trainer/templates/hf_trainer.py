"""Hugging Face Trainer plumbing shared by ``hf-advanced`` and ``hf-lora``: tokenizer and model loading
with the run's label maps, tokenised datasets for dynamic padding, TrainingArguments from
``trainer_config`` over fast defaults, validation macro F1 for checkpoint selection, and progress.

Defaults the user may override in ``trainer_config``: dynamic padding (``DataCollatorWithPadding``),
``train_sampling_strategy=group_by_length``, bf16 where the GPU supports it, the run's seed. With a
validation split: evaluate each epoch and keep the best checkpoint by ``macro_f1``. A full checkpoint
is saved each epoch into the run's checkpoint folder and an attempt that finds one resumes from it
(``checkpoints``); ``save_strategy: "no"`` turns that off, ``save_strategy: "steps"`` with
``save_steps`` saves more often.
Attention: transformers picks SDPA by default where the backbone supports it (``attn_implementation``
in ``model_config`` overrides).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np
import torch
import transformers
from sklearn import metrics as skm

from textclf_trainer import (
    artifacts,
    checkpoints,
    distributed,
    errors,
    evaluation,
    examples,
    hardware,
    memory,
    params,
    progress,
)
from textclf_trainer.templates import base

LOG = logging.getLogger(__name__)
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
        "output_dir": str(job.checkpoints.folder),
        "report_to": "none",
        "disable_tqdm": True,
        "seed": job.seed,
        "data_seed": job.seed,
        "logging_strategy": "steps",
        "logging_steps": max(1, int(steps // LOG_EVENTS)),
        # A full checkpoint (with optimizer state) each epoch, the newest kept: a retried or
        # preempted attempt resumes from it (``checkpoints``).
        "save_strategy": "epoch",
        "save_total_limit": 1,
        "eval_strategy": "no",
        "bf16": hardware.bf16_supported(),
        "dataloader_pin_memory": torch.cuda.is_available(),
    }
    if distributed.world_size() > 1 and not torch.cuda.is_available():
        defaults["use_cpu"] = True  # DDP over gloo; without it each CPU rank trains alone
    if job.validation is not None:
        defaults.update(
            eval_strategy="epoch",
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
        # global_step is the checkpoint's when resuming
        self.tracker.step(state.global_step, state.max_steps, epoch=state.epoch or 0.0)

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        logs = logs or {}
        self.log.add({"trainer": logs, "step": state.global_step, "epoch": state.epoch})
        if "loss" in logs:
            self.tracker.step(
                state.global_step, state.max_steps, epoch=state.epoch, loss=float(logs["loss"])
            )


MAX_POS_WEIGHT = 30.0
"""Cap of a concept's positive weight in the multi-label loss (a concept seen in 1 of 1,000 rows)."""


def multi_label_loss(job: base.TrainJob) -> Any:
    """For multi-label runs with ``multi_label_pos_weight: balanced``: BCE with each concept's
    positives weighted by its negatives-to-positives ratio in train (capped), so rare concepts are
    not learnt away into the all-negative prior. None: the model's own unweighted BCE."""
    if not job.multi_label or job.params.get("multi_label_pos_weight", "balanced") != "balanced":
        return None
    y = evaluation.targets(job.train.labels, job.concepts, multi_label=True).astype(np.float64)
    positives = y.sum(axis=0)
    ratio = (len(y) - positives) / np.maximum(positives, 1.0)
    pos_weight = torch.tensor(np.clip(ratio, 1.0, MAX_POS_WEIGHT), dtype=torch.float32)
    job.log.add({"multi_label_pos_weight": [round(float(w), 2) for w in pos_weight]})

    def loss(outputs: Any, labels: Any, num_items_in_batch: Any = None) -> Any:
        logits = outputs["logits"]
        per_item = torch.nn.functional.binary_cross_entropy_with_logits(
            logits.float(),
            labels.to(logits.device, torch.float32),
            pos_weight=pos_weight.to(logits.device),
            reduction="sum",
        )
        count = num_items_in_batch if num_items_in_batch is not None else labels.numel()
        return per_item / count  # a mean over items, also across gradient accumulation

    return loss


def early_stopping(job: base.TrainJob, args: Any) -> list[Any]:
    """Stop when validation macro F1 has not improved for ``early_stopping_patience`` evaluations
    (the best checkpoint is kept either way); none without a validation split or with patience 0."""
    patience = int(job.params.get("early_stopping_patience", 2))
    if job.validation is None or patience <= 0 or not args.load_best_model_at_end:
        return []
    return [transformers.EarlyStoppingCallback(early_stopping_patience=patience)]


SMALL_BACKBONE_PARAMETERS = 60_000_000
SMALL_BACKBONE_LEARNING_RATE = 2e-4
BASE_LEARNING_RATE = 5e-5


def default_learning_rate(model: Any) -> float:
    """The learning rate of a run that sets none: 2e-4 for small encoders (under 60M parameters,
    e.g. MiniLM), which 5e-5 leaves underfit in a few hundred steps (bench/RESULTS.md: Banking77,
    TREC's rare class), else the usual 5e-5 of base-size and larger models."""
    size = sum(p.numel() for p in model.parameters())
    return SMALL_BACKBONE_LEARNING_RATE if size < SMALL_BACKBONE_PARAMETERS else BASE_LEARNING_RATE


def fit(job: base.TrainJob, args: Any, model: Any, tokenizer: Any) -> Any:
    """Train ``model`` with the Trainer; returns the trained (best, if validating) model."""
    if "learning_rate" not in (job.params.get("trainer_config") or {}):
        args.learning_rate = default_learning_rate(model)
        job.log.add({"learning_rate": args.learning_rate, "chosen_by": "backbone size"})
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
        compute_loss_func=multi_label_loss(job),
        callbacks=[ProgressCallback(job.tracker, job.log), *early_stopping(job, args)],
    )
    # With disable_tqdm the Trainer prints raw log dicts to stdout, which carries JSON lines here.
    trainer.remove_callback(transformers.PrinterCallback)
    resume = None
    if args.save_strategy != "no":
        with args.main_process_first(desc="checkpoint lookup"):  # after rank 0 has claimed
            resume = job.checkpoints.latest()
    if resume is not None:
        step = checkpoints.step_of(resume)
        job.tracker.resumed(step)
        job.log.add({"resumed_from": resume.name, "step": step})
        LOG.info("resuming from %s (step %d) of an earlier attempt", resume.name, step)
    with memory.guard(job.params, "trainer_config.per_device_train_batch_size"):
        trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    if trainer.state.best_model_checkpoint:
        job.log.add(
            {
                "best_checkpoint": trainer.state.best_model_checkpoint.rsplit("/", 1)[-1],
                "best_metric": trainer.state.best_metric,
            }
        )
    return trainer.model


def save(job: base.TrainJob, model: Any, tokenizer: Any) -> artifacts.Metadata:
    """Write model and tokenizer (safetensors) and the metadata into the job's model folder (rank 0
    only: the other ranks of a multi-GPU run hold the same weights)."""
    metadata = artifacts.Metadata(
        kind="sequence-classification",
        template=job.template,
        concepts=job.concepts,
        multi_label=job.multi_label,
        max_length=job.max_length,
    )
    if distributed.is_main():
        model.save_pretrained(str(job.model_dir))
        tokenizer.save_pretrained(str(job.model_dir))
        artifacts.write_metadata(job.model_dir, metadata)
    return metadata
