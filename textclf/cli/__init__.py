"""The ``textclf`` command line: one module per subcommand, dispatched by ``main``.

The package must import without torch (it ships with the shared package the operator image also
installs); commands that need the trainer (``--local``) import ``textclf_trainer`` inside ``run``.
"""
