"""The operator's settings as the chart's environment sets them."""

from __future__ import annotations

import pytest

from textclf_operator import config


def test_environment_sets_what_the_chart_passes() -> None:
    settings = config.Config.from_env(
        {
            "TEXTCLF_WORKERS": "3",
            "TEXTCLF_RESYNC_SECONDS": "60",
            "TEXTCLF_LEADER_ELECTION": "true",
            "TEXTCLF_ARTIFACT_STORE": "s3://bucket/models",
            "POD_NAMESPACE": "ops",
        }
    )
    assert settings.workers == 3
    assert settings.resync_seconds == 60.0
    assert settings.leader_election is True
    assert settings.artifact_store == "s3://bucket/models"
    assert settings.namespace == "ops"


def test_defaults_without_environment() -> None:
    settings = config.Config.from_env({})
    assert settings.workers == 32
    assert settings.leader_election is False
    assert settings.progress_tls_secret == ""


def test_no_workers_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="TEXTCLF_WORKERS must be at least 1, not 0"):
        config.Config.from_env({"TEXTCLF_WORKERS": "0"})
