"""The API contract of ``textclf.io/v1alpha1``: typed models, status codes, conditions and channels.

Operator, trainer, CLI and SDK import these modules (``from textclf.api import codes``) so that a code
or a field name exists in exactly one place. ``crdgen`` turns the models into the CRD manifests.
"""

GROUP = "textclf.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
