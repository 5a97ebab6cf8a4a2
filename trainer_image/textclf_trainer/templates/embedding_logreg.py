"""The ``embedding-logreg`` template: frozen sentence embeddings and a scikit-learn logistic regression.

The encoder is not trained; texts are embedded once (mean pooling, L2-normalised by default) and a
``LogisticRegression`` is fitted on the vectors (multinomial for single-label, one binary model per
concept for multi-label). The head is saved as ``head.safetensors`` (``weight`` [concepts, hidden],
``bias`` [concepts]) so loading it needs no pickle: softmax(weight @ x + bias) for single-label,
sigmoid for multi-label. A binary sklearn model (one coefficient row) is written as the equivalent
two-row softmax (rows -w/2 and w/2), so every single-label head reads the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import safetensors.numpy
import transformers
from sklearn import linear_model, model_selection, multiclass

from textclf_trainer import (
    artifacts,
    catalogue,
    embeddings,
    errors,
    evaluation,
    hardware,
    memory,
    params,
)
from textclf_trainer.templates import base


def _logreg(job: base.TrainJob) -> Any:
    """The run's ``C``, else ``C`` cross-validated on the training rows (log loss, stratified folds)."""
    config: dict[str, Any] = dict(job.params.get("logreg") or {})
    common: dict[str, Any] = {
        "max_iter": int(config.get("max_iter", 2000)),
        "class_weight": config.get("class_weight"),
        "random_state": job.seed,
    }
    if "C" in config:
        return linear_model.LogisticRegression(C=float(config["C"]), **common)
    folds = int(config.get("cv_folds", 5))
    return linear_model.LogisticRegressionCV(
        Cs=[float(c) for c in config.get("Cs", catalogue.LOGREG_CS)],
        cv=model_selection.StratifiedKFold(folds, shuffle=True, random_state=job.seed),
        scoring="neg_log_loss",
        **common,
    )


def chosen_c(model: Any) -> list[float]:
    """The C each fitted model used (one per concept for multi-label)."""
    estimators = getattr(model, "estimators_", [model])
    return [float(np.ravel(getattr(e, "C_", [getattr(e, "C", 0.0)]))[0]) for e in estimators]


def head_tensors(
    model: Any, multi_label: bool
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """``weight`` and ``bias`` of a fitted sklearn model, in the artifact's softmax/sigmoid form."""
    if multi_label:
        weight = np.stack([est.coef_[0] for est in model.estimators_])
        bias = np.array([est.intercept_[0] for est in model.estimators_])
    elif model.coef_.shape[0] == 1:  # binary: sigmoid(z) == softmax([-z/2, z/2])[1]
        w, b = model.coef_[0] / 2.0, model.intercept_[0] / 2.0
        weight, bias = np.stack([-w, w]), np.array([-b, b])
    else:
        weight, bias = model.coef_, model.intercept_
    # C order: sklearn may hold coef_ in Fortran order, and safetensors writes the raw buffer
    return (
        np.ascontiguousarray(weight, dtype=np.float32),
        np.ascontiguousarray(bias, dtype=np.float32),
    )


def train(job: base.TrainJob) -> artifacts.Metadata:
    kwargs = params.from_pretrained_kwargs(job.params.get("model_config"))
    tok_kwargs = params.from_pretrained_kwargs(job.params.get("tokenizer_config"))
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(job.backbone, **tok_kwargs)
        encoder = transformers.AutoModel.from_pretrained(job.backbone, **kwargs)
    except OSError as exc:
        raise errors.invalid_params(
            f"params.model_config.{params.BACKBONE_KEY}: cannot load {job.backbone!r} ({exc})"
        ) from exc
    encoder.to(hardware.device())
    normalize = bool(job.params.get("normalize", True))

    def on_batch(done: int, total: int) -> None:
        job.tracker.step(done, total + max(1, total // 10))  # the fit is the last tenth

    with memory.guard(job.params, "batch_size"):
        vectors = embeddings.encode(
            encoder,
            tokenizer,
            job.train.texts,
            max_length=job.max_length,
            batch_size=int(job.params.get("batch_size", 32)),
            normalize=normalize,
            on_batch=on_batch,
        )
    y = evaluation.targets(job.train.labels, job.concepts, job.multi_label)
    logreg = _logreg(job)
    model = multiclass.OneVsRestClassifier(logreg) if job.multi_label else logreg
    model.fit(vectors, y)
    weight, bias = head_tensors(model, job.multi_label)
    job.log.add(
        {
            "logreg": {
                "n_iter": np.asarray(getattr(model, "n_iter_", [0])).tolist(),
                "C": chosen_c(model),
            }
        }
    )
    job.tracker.step(1, 1)

    id2label, label2id = artifacts.label_maps(job.concepts)
    encoder.config.id2label, encoder.config.label2id = id2label, label2id
    encoder.save_pretrained(str(job.model_dir))
    tokenizer.save_pretrained(str(job.model_dir))
    safetensors.numpy.save_file(
        {"weight": weight, "bias": bias}, str(job.model_dir / artifacts.HEAD)
    )
    metadata = artifacts.Metadata(
        kind="embedding-logreg",
        template=job.template,
        concepts=job.concepts,
        multi_label=job.multi_label,
        max_length=job.max_length,
        normalize=normalize,
    )
    artifacts.write_metadata(job.model_dir, metadata)
    return metadata
