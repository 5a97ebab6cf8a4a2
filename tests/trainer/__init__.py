"""Tests of the trainer (``trainer_image/textclf_trainer``) and the local CLI."""
