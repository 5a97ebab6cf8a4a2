"""How a training's progress is shown, the same for a run on a cluster (``train -f --wait``, from
``status.progress``) and for a local one (``train --local``, from the trainer's events): a tqdm bar
on a terminal, else one line per change (``NAME: CODE 35% loss 0.4123``), so logs of CI jobs stay
readable. Library output never goes here: it goes to the run's log."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from textclf.api import trainingrun


class View:
    """Progress of one run as it changes; ``close`` ends the bar."""

    def __init__(self, name: str, stream: TextIO | None = None, bar: bool | None = None) -> None:
        self.name = name
        self.stream = stream or sys.stdout
        self.as_bar = self.stream.isatty() if bar is None else bar
        self.bar: Any = None
        self.last: tuple[str | None, int | None, str | None] = (None, None, None)

    def show(
        self,
        code: str | None,
        percent: int | None,
        *,
        loss: float | None = None,
        phase: str | None = None,
    ) -> None:
        if (code, percent, phase) == self.last:
            return
        self.last = (code, percent, phase)
        said = " ".join(str(s) for s in (code, phase) if s)
        if self.as_bar:
            if self.bar is None:
                from tqdm import tqdm  # type: ignore[import-untyped]  # noqa: PLC0415

                self.bar = tqdm(total=100, desc=self.name, unit="%", file=self.stream)
            postfix = said + (f" loss {loss:.4f}" if loss is not None else "")
            self.bar.set_postfix_str(postfix, refresh=False)
            if percent is not None:
                self.bar.update(percent - self.bar.n)
            else:
                self.bar.refresh()
            return
        self.stream.write(
            f"{self.name}: {said}"
            + (f" {percent}%" if percent is not None else "")
            + (f" loss {loss:.4f}" if loss is not None else "")
            + "\n"
        )
        self.stream.flush()

    def show_status(self, status: trainingrun.TrainingRunStatus) -> None:
        """A run's status as the operator (or the local backend) wrote it."""
        progress = status.progress
        self.show(
            status.code,
            progress.percent if progress else None,
            loss=progress.loss if progress else None,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
