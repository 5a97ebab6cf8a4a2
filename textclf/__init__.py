"""textclf: text-classifier fine-tuning as a Kubernetes operator.

This shared package holds what every part agrees on: the API contract (``textclf.api``), and the
user-facing CLI and SDK. The operator (``textclf_operator``) and the trainer (``textclf_trainer``) both
import it; it imports neither of them.
"""

__version__ = "0.1.0"
