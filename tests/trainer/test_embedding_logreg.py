"""embedding-logreg's choice of pooled layers: which sets are candidates, the columns each reads, the
score that picks one, and the encoder that produces them (a tiny random BERT, real sklearn fits).
The choice on real data is tested with the TREC model in ``test_training.py``."""

from __future__ import annotations

import types
import typing
from typing import Any

import numpy as np
import pytest
import torch
import transformers

from textclf.api import codes
from textclf_trainer import embeddings, errors
from textclf_trainer.templates import base
from textclf_trainer.templates import embedding_logreg as el


def test_auto_offers_the_top_layer_and_the_last_four_where_the_encoder_has_them() -> None:
    assert el.layer_choices("auto", 6) == [(-1,), (-4, -3, -2, -1)]
    assert el.layer_choices("auto", 2) == [(-1,)]  # no last four in a two-layer encoder
    assert el.layer_choices([-2, -1], 6) == [(-2, -1)]
    assert el.layer_choices([-7], 6) == [(-7,)]  # the embeddings


def test_a_layer_the_backbone_lacks_is_the_users_error_naming_the_param() -> None:
    with pytest.raises(errors.UserError) as caught:
        el.layer_choices([-8, -1], 6)
    assert caught.value.detail == codes.DetailCode.INVALID_PARAMS
    assert caught.value.message.startswith("params.layers: -8 ")


def test_columns_pick_each_layers_block_in_order() -> None:
    widest = (-4, -3, -2, -1)
    assert el.columns(widest, (-1,), 2) == [6, 7]
    assert el.columns(widest, (-3, -1), 2) == [2, 3, 6, 7]


def _tiny_encoder() -> Any:
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=50,
        hidden_size=8,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=16,
    )
    return transformers.BertModel(config).eval()  # type: ignore[no-untyped-call]


def test_sentence_encoder_puts_each_layers_pooled_vector_side_by_side() -> None:
    model = _tiny_encoder()
    ids = torch.tensor([[2, 5, 7, 3, 0], [2, 9, 3, 0, 0]])
    mask = (ids != 0).long()
    with torch.inference_mode():
        hidden = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        top = embeddings.SentenceEncoder(model, normalize=True)(ids, mask)
        four = embeddings.SentenceEncoder(model, (-4, -3, -2, -1), normalize=True)(ids, mask)
    assert top.shape == (2, 8)
    assert four.shape == (2, 32)
    assert torch.allclose(four[:, 24:], top)  # the top layer's block is the plain embedding
    expected = embeddings.sentence_vectors(hidden[1], mask, normalize=True)  # layer -4 of 5 states
    assert torch.allclose(four[:, :8], expected)
    assert torch.allclose(four[:, 8:16].norm(dim=1), torch.ones(2))  # each block normalised alone
    assert not torch.allclose(four[:, :8], four[:, 8:16])


def _job(*, multi_label: bool) -> base.TrainJob:
    """The fields ``fit`` reads, as a run with a small C grid would set them."""
    job = types.SimpleNamespace(
        params={"logreg": {"Cs": [0.5, 2.0], "cv_folds": 3}}, seed=0, multi_label=multi_label
    )
    return typing.cast(base.TrainJob, job)


@pytest.mark.parametrize("multi_label", [False, True])
@pytest.mark.parametrize(("signal_block", "chosen"), [(0, (-4, -3, -2, -1)), (3, (-1,))])
def test_fit_keeps_the_layers_that_cross_validate_better(
    signal_block: int, chosen: tuple[int, ...], multi_label: bool
) -> None:
    """Four blocks of noise, one of which carries the class: read by the last four when it is a
    lower layer's block, by the top layer alone when it is the top's (the other three only add
    noise). Multi-label: one model per concept, scored together."""
    rng = np.random.default_rng(0)
    onehot = np.eye(3)[np.repeat([0, 1, 2], 40)]
    y = onehot.astype(int) if multi_label else np.repeat(["a", "b", "c"], 40)
    vectors = rng.normal(0, 1, (120, 12)).astype(np.float32)
    signal = onehot + rng.normal(0, 0.3, (120, 3))
    vectors[:, 3 * signal_block : 3 * signal_block + 3] = signal
    fitted: list[tuple[int, int]] = []
    model, layers, scores = el.fit(
        _job(multi_label=multi_label),
        vectors,
        y,
        el.layer_choices("auto", 6),
        lambda done, total: fitted.append((done, total)),
    )
    assert layers == chosen
    assert [s["layers"] for s in scores] == [[-1], [-4, -3, -2, -1]]
    assert max(scores, key=lambda s: s["cv_neg_log_loss"])["layers"] == list(chosen)
    assert fitted == [(1, 2), (2, 2)]
    weight, _ = el.head_tensors(model, multi_label)
    assert weight.shape == (3, 3 * len(chosen))


def test_a_tie_keeps_the_top_layer() -> None:
    """The last four add nothing when the lower blocks repeat the top one: their score is within
    the margin, and the smaller head is kept."""
    rng = np.random.default_rng(1)
    y = np.repeat(["a", "b"], 60)
    top = (np.eye(2)[np.repeat([0, 1], 60)] + rng.normal(0, 0.8, (120, 2))).astype(np.float32)
    vectors = np.concatenate([top, top, top, top], axis=1)
    _, layers, scores = el.fit(_job(multi_label=False), vectors, y, el.layer_choices("auto", 6))
    assert layers == (-1,)
    top_score, four_score = (s["cv_neg_log_loss"] for s in scores)
    assert abs(four_score - top_score) <= el.MARGIN * abs(top_score)


def test_one_layer_set_is_one_fit_and_still_reports_it() -> None:
    rng = np.random.default_rng(2)
    y = np.repeat(["a", "b"], 30)
    vectors = (np.eye(2)[np.repeat([0, 1], 30)] + rng.normal(0, 0.5, (60, 2))).astype(np.float32)
    fitted: list[tuple[int, int]] = []
    _, layers, scores = el.fit(
        _job(multi_label=False), vectors, y, [(-1,)], lambda d, t: fitted.append((d, t))
    )
    assert (layers, scores, fitted) == ((-1,), [], [(1, 1)])
