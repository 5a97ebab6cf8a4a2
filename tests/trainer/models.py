"""The trained models that tests in several folders share (the trainer's, serving's): each is trained
once per session and worker, on the bundled data subsets, then only read. A plugin of the root
``conftest.py``, so one definition serves every folder (a fixture imported into two conftests would
train twice).

The Hub is switched off for the whole session: nothing may be downloaded.
"""

from __future__ import annotations

import os
import pathlib

import pytest

from tests.trainer import runs

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def sst2(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pathlib.Path]:
    """SST-2: the first 2,000 training rows and the whole validation set (872) as test."""
    folder = tmp_path_factory.mktemp("sst2")
    return {
        "train": runs.write_subset(runs.dataset_file("sst2", "train"), folder / "train.csv", 2000),
        "test": runs.write_subset(
            runs.dataset_file("sst2", "validation"), folder / "test.csv", None
        ),
    }


@pytest.fixture(scope="session")
def goemotions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pathlib.Path]:
    """GoEmotions (28 labels, '|'-separated): the first 2,000 training and 1,000 test rows."""
    folder = tmp_path_factory.mktemp("goemotions")
    return {
        "train": runs.write_subset(
            runs.dataset_file("goemotions", "train"), folder / "train.csv", 2000
        ),
        "test": runs.write_subset(
            runs.dataset_file("goemotions", "test"), folder / "test.csv", 1000
        ),
    }


@pytest.fixture(scope="session")
def sst2_embedding_logreg(
    tmp_path_factory: pytest.TempPathFactory, sst2: dict[str, pathlib.Path]
) -> runs.Trained:
    return runs.train(
        tmp_path_factory.mktemp("sst2-el"),
        sst2,
        "embedding-logreg",
        params={"max_length": 64},
        **runs.SST2,
    )


@pytest.fixture(scope="session")
def sst2_hf_advanced(
    tmp_path_factory: pytest.TempPathFactory, sst2: dict[str, pathlib.Path]
) -> runs.Trained:
    # 1,800 rows to train, 200 held out for checkpoint selection; lr 1e-4 suits a small encoder.
    return runs.train(
        tmp_path_factory.mktemp("sst2-hf"),
        sst2,
        "hf-advanced",
        params={"max_length": 64, "trainer_config": {"num_train_epochs": 3, "learning_rate": 1e-4}},
        validationSplit=0.1,
        **runs.SST2,
    )


@pytest.fixture(scope="session")
def sst2_hf_lora(
    tmp_path_factory: pytest.TempPathFactory, sst2: dict[str, pathlib.Path]
) -> runs.Trained:
    return runs.train(
        tmp_path_factory.mktemp("sst2-lora"),
        sst2,
        "hf-lora",
        params={"max_length": 64, "trainer_config": {"num_train_epochs": 3, "learning_rate": 1e-3}},
        validationSplit=0.1,
        **runs.SST2,
    )


@pytest.fixture(scope="session")
def goemotions_embedding_logreg(
    tmp_path_factory: pytest.TempPathFactory, goemotions: dict[str, pathlib.Path]
) -> runs.Trained:
    # Unweighted logistic regressions: with 28 mostly rare concepts they almost never reach 0.5 for
    # a rare one, so what makes them useful is the per-concept threshold tuned on the 10% that a
    # multi-label run of 1,000+ rows holds out by itself.
    return runs.train(
        tmp_path_factory.mktemp("ge-el"),
        goemotions,
        "embedding-logreg",
        params={"max_length": 64, "layers": [-1], "logreg": {"C": 2.0}},  # no CV: one fit
        **runs.GOEMOTIONS,
    )


@pytest.fixture(scope="session")
def sst2_multi_label_hf(
    tmp_path_factory: pytest.TempPathFactory, sst2: dict[str, pathlib.Path]
) -> runs.Trained:
    # The multi-label path of the Trainer templates (BCE, sigmoid) on data with a clear signal:
    # SST-2 read through a label separator. On 2,000 GoEmotions rows a CPU-sized budget (~190
    # steps) leaves a fine-tuned encoder at the label priors (see bench/RESULTS.md).
    folder = tmp_path_factory.mktemp("sst2-ml")
    data = {
        "train": runs.write_subset(sst2["train"], folder / "train.csv", 800),
        "test": sst2["test"],
    }
    return runs.train(
        folder,
        data,
        "hf-advanced",
        params={"max_length": 64, "trainer_config": {"num_train_epochs": 2, "learning_rate": 1e-4}},
        labelSeparator="|",
        **runs.SST2,
    )


@pytest.fixture(scope="session")
def trec_embedding_logreg(tmp_path_factory: pytest.TempPathFactory) -> runs.Trained:
    """Six concepts, one rare (ABBR): the multi-class path, C cross-validated (the default)."""
    return runs.train(
        tmp_path_factory.mktemp("trec-el"),
        {"train": runs.dataset_file("trec", "train"), "test": runs.dataset_file("trec", "test")},
        "embedding-logreg",
        params={"max_length": 64},
        **runs.SST2,
    )
