"""``python -m textclf_trainer``: see ``entrypoint``. ``receive`` (the uploader Pod's server) is
dispatched first: it needs neither torch nor transformers, and its Pod has a small memory limit."""

import sys

if sys.argv[1:2] == ["receive"]:
    from textclf_trainer import receiver

    sys.exit(receiver.main(sys.argv[2:]))

from textclf_trainer import entrypoint

sys.exit(entrypoint.main())
