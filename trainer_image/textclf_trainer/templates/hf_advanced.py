"""The ``hf-advanced`` template: full fine-tuning of an AutoModelForSequenceClassification backbone."""

from __future__ import annotations

import transformers

from textclf_trainer import artifacts
from textclf_trainer.templates import base, hf_trainer


def train(job: base.TrainJob) -> artifacts.Metadata:
    transformers.set_seed(job.seed)
    args = hf_trainer.training_arguments(job)
    tokenizer = hf_trainer.load_tokenizer(job)
    model = hf_trainer.load_model(job, tokenizer)
    model = hf_trainer.fit(job, args, model, tokenizer)
    return hf_trainer.save(job, model, tokenizer)
