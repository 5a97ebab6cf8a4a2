"""The ``hf-lora`` template: LoRA adapters (PEFT, task ``SEQ_CLS``) on an encoder or decoder backbone.

The classification head is trained in full (peft's ``modules_to_save`` for SEQ_CLS), the backbone only
through the adapters. The artifact holds the adapters merged into the backbone, an ordinary
sequence-classification model: predict and serving need no peft.
"""

from __future__ import annotations

from typing import Any

import peft
import transformers

from textclf_trainer import artifacts, errors
from textclf_trainer.templates import base, hf_trainer


def lora_config(job: base.TrainJob) -> peft.LoraConfig:
    config: dict[str, Any] = dict(job.params.get("lora_config") or {})
    config.pop("task_type", None)
    try:
        return peft.LoraConfig(task_type=peft.TaskType.SEQ_CLS, **config)
    except (TypeError, ValueError) as exc:
        raise errors.invalid_params(f"params.lora_config: {exc}") from exc


def train(job: base.TrainJob) -> artifacts.Metadata:
    transformers.set_seed(job.seed)
    args = hf_trainer.training_arguments(job)
    tokenizer = hf_trainer.load_tokenizer(job)
    model = hf_trainer.load_model(job, tokenizer)
    try:
        model = peft.get_peft_model(model, lora_config(job))
    except ValueError as exc:  # e.g. target_modules that the backbone lacks
        raise errors.invalid_params(f"params.lora_config: {exc}") from exc
    trainable, total = model.get_nb_trainable_parameters()
    job.log.add({"lora": {"trainable_parameters": trainable, "all_parameters": total}})
    model = hf_trainer.fit(job, args, model, tokenizer)
    merged = model.merge_and_unload()
    return hf_trainer.save(job, merged, tokenizer)
