"""``python -m textclf_trainer``: see ``entrypoint``."""

import sys

from textclf_trainer import entrypoint

sys.exit(entrypoint.main())
