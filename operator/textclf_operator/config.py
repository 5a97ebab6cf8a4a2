"""The operator's settings, read once from its environment (the Helm chart sets them).

Kept apart so builders and the progress endpoint take a plain value object and tests construct one
directly instead of patching the environment.
"""

from __future__ import annotations

import dataclasses
import os
import socket


@dataclasses.dataclass(frozen=True)
class Config:
    """What the operator needs to know about its own deployment."""

    progress_url: str = "http://textclf-operator.textclf-system.svc:8081/v1alpha1/progress"
    """Where training Pods POST progress (the operator's Service)."""
    progress_port: int = 8081
    metrics_port: int = 9090
    trainer_service_account: str = "default"
    """ServiceAccount of training Pods: only its projected progress token is mounted."""
    progress_min_interval: float = 1.0
    """Seconds between accepted progress reports of one run; faster ones get 429."""
    progress_token_seconds: int = 3600
    """Lifetime of the projected progress token (the kubelet refreshes it)."""
    scratch_size: str = "20Gi"
    """Size limit of the training and predictor Pods' scratch emptyDir (caches, checkpoints, a
    downloaded artifact)."""
    predictor_image: str = "registry.example.com/textclf/textclf-trainer:0.1.0"
    """Image of the predictor Deployments (``python -m textclf_trainer serve``): the trainer image,
    which the chart sets from ``trainingTemplates.image``."""

    namespace: str = "textclf-system"
    """The operator's own namespace (``POD_NAMESPACE``), where its progress TLS Secret lives."""
    progress_tls_secret: str = ""
    """Secret (``tls.crt``, ``tls.key``, ``ca.crt``) of the progress endpoint's certificate; empty:
    plain HTTP, for a local operator only."""
    progress_tls_generate: bool = True
    """Make that Secret (a self-signed CA and certificate) when it is missing; false when
    cert-manager or the installer provides it."""
    progress_ca: str = ""
    """PEM of the CA trainers verify the endpoint with; filled in at startup from the Secret."""

    artifact_store: str = ""
    """Where runs without ``spec.output`` write: ``pvc://CLAIM[/PATH]`` (a claim of that name in
    the run's namespace) or ``s3://BUCKET[/PREFIX]``; each run gets ``<namespace>/<model>/<run>/``
    under it. Empty: such runs fail with a message that says so."""

    leader_election: bool = False
    """Hold the Lease ``leader_lease`` in ``namespace`` before reconciling (the chart turns it on,
    so two replicas never both write); off for a single local operator."""
    leader_lease: str = "textclf-operator"
    leader_lease_seconds: int = 15
    """A leader killed without handing the Lease back is replaced this long after its last renewal."""
    identity: str = dataclasses.field(default_factory=socket.gethostname)
    """This replica in the Lease (``POD_NAME``; the host name elsewhere)."""

    workers: int = 32
    """Reconciles at once, and threads for their API calls: a reconcile spends most of its time
    waiting on the API server, so more of them in flight keep up with a burst of runs."""

    resync_seconds: float = 300.0
    """Every this many seconds the operator re-lists what it watches, drops from its cache what
    is gone (a lost deletion event) and reconciles everything once more."""

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"TEXTCLF_WORKERS must be at least 1, not {self.workers}")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        defaults = cls()
        return cls(
            progress_url=env.get("TEXTCLF_PROGRESS_URL", defaults.progress_url),
            progress_port=int(env.get("TEXTCLF_PROGRESS_PORT", defaults.progress_port)),
            metrics_port=int(env.get("TEXTCLF_METRICS_PORT", defaults.metrics_port)),
            trainer_service_account=env.get(
                "TEXTCLF_TRAINER_SERVICE_ACCOUNT", defaults.trainer_service_account
            ),
            progress_min_interval=float(
                env.get("TEXTCLF_PROGRESS_MIN_INTERVAL", defaults.progress_min_interval)
            ),
            predictor_image=env.get("TEXTCLF_PREDICTOR_IMAGE", defaults.predictor_image),
            namespace=env.get("POD_NAMESPACE", defaults.namespace),
            progress_tls_secret=env.get(
                "TEXTCLF_PROGRESS_TLS_SECRET", defaults.progress_tls_secret
            ),
            progress_tls_generate=env.get("TEXTCLF_PROGRESS_TLS_GENERATE", "true").lower()
            in ("1", "true", "yes"),
            artifact_store=env.get("TEXTCLF_ARTIFACT_STORE", defaults.artifact_store),
            leader_election=env.get("TEXTCLF_LEADER_ELECTION", "false").lower()
            in ("1", "true", "yes"),
            leader_lease=env.get("TEXTCLF_LEADER_LEASE", defaults.leader_lease),
            leader_lease_seconds=int(
                env.get("TEXTCLF_LEADER_LEASE_SECONDS", defaults.leader_lease_seconds)
            ),
            identity=env.get("POD_NAME", defaults.identity),
            resync_seconds=float(env.get("TEXTCLF_RESYNC_SECONDS", defaults.resync_seconds)),
            workers=int(env.get("TEXTCLF_WORKERS", defaults.workers)),
        )
