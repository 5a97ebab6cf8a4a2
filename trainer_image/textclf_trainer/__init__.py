"""The textclf trainer: reads a TrainingRun spec, trains a text classifier, evaluates it, writes the artifact.

It runs as ``python -m textclf_trainer`` in the training Pod (the operator mounts the spec and the data)
and in-process behind ``textclf train --local``. Entry points for callers:

- ``runner.run`` trains one run and returns its ``Outcome`` (raises ``errors.TrainerError``);
- ``entrypoint.main`` wraps it with exit codes and the termination message;
- ``predictor.Predictor`` loads an artifact and predicts;
- ``catalogue.templates`` describes the templates (name, defaults, params schema) without torch.
"""
