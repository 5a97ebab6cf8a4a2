"""The ``embedding-logreg`` template: frozen sentence embeddings and a scikit-learn logistic regression.

The encoder is not trained; texts are embedded once (mean pooling, L2-normalised by default) and a
``LogisticRegression`` is fitted on the vectors (multinomial for single-label, one binary model per
concept for multi-label). Which hidden layers are pooled is chosen on the training rows like C is
(``layers: auto``): the top layer alone, or the last four side by side, the wider set only when its
cross-validated log loss is better by more than ``MARGIN`` (it costs four times the head and the
hidden states at serving). Measured (``bench/RESULTS.md``), the last four win on SST-2, TREC and
SMS spam and the top layer on Banking77, and cross-validation picked the better one on all four.
A run that sets ``logreg.C`` still cross-validates the layer sets at that C; setting ``layers`` too
makes it one fit.

The head is saved as ``head.safetensors`` (``weight`` [concepts, hidden x layers], ``bias``
[concepts]) so loading it needs no pickle: softmax(weight @ x + bias) for single-label, sigmoid for
multi-label. A binary sklearn model (one coefficient row) is written as the equivalent two-row
softmax (rows -w/2 and w/2), so every single-label head reads the same way.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
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

LAYER_CHOICES = (embeddings.LAST, (-4, -3, -2, -1))
"""What ``layers: auto`` chooses between, narrowest first: the top layer, or the last four (where the
encoder has four). Each set is within the last one, whose vectors are computed once."""

MARGIN = 0.01
"""A wider layer set is kept only if its cross-validated log loss is lower by more than this share of
the narrower one's: a tie keeps the smaller head and the cheaper forward pass."""


def layer_choices(layers: Any, encoder_depth: int) -> list[tuple[int, ...]]:
    """The layer sets to choose from: the run's one, or ``LAYER_CHOICES`` that the encoder has."""
    if layers == catalogue.AUTO:
        return [c for c in LAYER_CHOICES if -min(c) <= encoder_depth]
    for index in layers:
        if -index > encoder_depth + 1:
            raise errors.invalid_params(
                f"params.layers: {index} is not a hidden layer of this backbone ({encoder_depth} "
                f"layers: -1 is the top, {-encoder_depth - 1} the embeddings)"
            )
    return [tuple(int(i) for i in layers)]


def _logreg(job: base.TrainJob, *, scored: bool) -> Any:
    """The run's ``C``, else ``C`` cross-validated on the training rows (log loss, stratified folds).
    ``scored``: cross-validate even a set ``C`` (a one-value grid), so layer sets can be compared."""
    config: dict[str, Any] = dict(job.params.get("logreg") or {})
    common: dict[str, Any] = {
        "max_iter": int(config.get("max_iter", 2000)),
        "class_weight": config.get("class_weight"),
        "random_state": job.seed,
    }
    if "C" in config and not scored:
        return linear_model.LogisticRegression(C=float(config["C"]), **common)
    grid = [config["C"]] if "C" in config else config.get("Cs", catalogue.LOGREG_CS)
    folds = int(config.get("cv_folds", 5))
    return linear_model.LogisticRegressionCV(
        Cs=[float(c) for c in grid],
        cv=model_selection.StratifiedKFold(folds, shuffle=True, random_state=job.seed),
        scoring="neg_log_loss",
        **common,
    )


def _model(job: base.TrainJob, *, scored: bool) -> Any:
    """``_logreg``, one per concept for multi-label."""
    logreg = _logreg(job, scored=scored)
    return multiclass.OneVsRestClassifier(logreg) if job.multi_label else logreg


def _fold_scores(scores: Any) -> Any:
    """Folds first: sklearn's legacy ``{class: [folds, Cs, ...]}``, or the newer array."""
    return next(iter(scores.values())) if isinstance(scores, dict) else scores


def cv_score(model: Any) -> float:
    """Mean cross-validated log loss (negated) at the chosen C, averaged over a multi-label model's
    concepts; a concept constant in the training rows has no score and is left out."""
    per_model = [
        float(np.max(np.mean(_fold_scores(e.scores_), axis=0)))
        for e in getattr(model, "estimators_", [model])
        if hasattr(e, "scores_")
    ]
    return float(np.mean(per_model)) if per_model else 0.0


def _fit(model: Any, vectors: npt.NDArray[np.float32], y: Any) -> Any:
    with warnings.catch_warnings():
        # A concept with fewer examples than folds is missing from some folds: its score is
        # noisier, which is the data's doing; the warning would only repeat it for every fit.
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        return model.fit(vectors, y)


def columns(widest: tuple[int, ...], layers: tuple[int, ...], width: int) -> list[int]:
    """The columns of ``layers``' vectors within vectors of ``widest`` (``width`` per layer)."""
    return [widest.index(i) * width + j for i in layers for j in range(width)]


def fit(
    job: base.TrainJob,
    vectors: npt.NDArray[np.float32],
    y: Any,
    choices: list[tuple[int, ...]],
    on_fit: Callable[[int, int], None] | None = None,  # (choices fitted, choices in all)
) -> tuple[Any, tuple[int, ...], list[dict[str, Any]]]:
    """The fitted head, the layers it reads and each choice's CV score (when there was a choice).
    ``vectors`` hold the layers of the last (widest) choice side by side."""
    widest = choices[-1]
    width = vectors.shape[1] // len(widest)
    if len(choices) == 1:
        model = _fit(_model(job, scored=False), vectors, y)
        if on_fit:
            on_fit(1, 1)
        return model, widest, []
    best: tuple[float, Any, tuple[int, ...]] | None = None
    scores: list[dict[str, Any]] = []
    for done, layers in enumerate(choices, start=1):
        model = _fit(_model(job, scored=True), vectors[:, columns(widest, layers, width)], y)
        score = cv_score(model)
        scores.append({"layers": list(layers), "cv_neg_log_loss": round(score, 5)})
        if best is None or score > best[0] + MARGIN * abs(best[0]):
            best = (score, model, layers)
        if on_fit:
            on_fit(done, len(choices))
    assert best is not None
    return best[1], best[2], scores


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
    choices = layer_choices(job.params.get("layers", catalogue.AUTO), embeddings.depth(encoder))
    normalize = bool(job.params.get("normalize", True))
    sentences = embeddings.SentenceEncoder(encoder, choices[-1], normalize=normalize)
    sentences.to(hardware.device())

    texts = len(job.train.texts)
    # One plain fit is quick next to embedding; cross-validated fits take about as long as it.
    cross_validated = len(choices) > 1 or "C" not in (job.params.get("logreg") or {})
    fitting = texts if cross_validated else max(1, texts // 10)

    def on_batch(done: int, total: int) -> None:
        job.tracker.step(done, texts + fitting)

    def on_fit(done: int, total: int) -> None:
        job.tracker.step(texts + fitting * done // total, texts + fitting)

    with memory.guard(job.params, "batch_size"):
        vectors = embeddings.encode(
            sentences,
            tokenizer,
            job.train.texts,
            max_length=job.max_length,
            batch_size=int(job.params.get("batch_size", 32)),
            on_batch=on_batch,
        )
    y = evaluation.targets(job.train.labels, job.concepts, job.multi_label)
    model, layers, scores = fit(job, vectors, y, choices, on_fit)
    weight, bias = head_tensors(model, job.multi_label)
    job.log.add(
        {
            "logreg": {
                "n_iter": np.asarray(getattr(model, "n_iter_", [0])).tolist(),
                "C": chosen_c(model),
                "layers": list(layers),
                "layer_choices": scores,
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
        layers=layers,
    )
    artifacts.write_metadata(job.model_dir, metadata)
    return metadata
