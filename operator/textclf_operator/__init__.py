"""textclf's operator: reconciles TrainingRuns into training Jobs and served TextClassifierModels into
predictor Deployments and Services, and keeps their status true.

Run it with ``kopf run --standalone -m textclf_operator --all-namespaces``. Importing this package
registers the kopf handlers (``handlers``) and nothing else; the work lives in modules below them:

- ``builders``: pure functions from the custom resources to the Job they run;
- ``predictors``: pure functions from a served model version to its Deployment and Service;
- ``runstatus``, ``modelstatus`` and ``servingstatus``: pure status computation from observed state;
- ``params``: merging and validating template params;
- ``kube``: the only module that talks to the Kubernetes API;
- ``cache``: the objects the watches saw, so a reconcile reads memory, not the API;
- ``reconciler``: one level-based reconcile per object, the single writer of each kind's status;
- ``progress``: the endpoint trainers report progress to; ``metrics``: Prometheus metrics.
"""

from textclf_operator import handlers

__all__ = ["handlers"]
