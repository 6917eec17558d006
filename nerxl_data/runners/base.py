"""The runner interface: what every backend (:mod:`.local`, :mod:`.ray_data`) implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from ..pipeline import PipelineConfig, RunReport


class Runner(ABC):
    """Runs a build's steps over its input; a context manager that releases its workers."""

    name: ClassVar[str] = "runner"

    @abstractmethod
    def run(self, dataset, config: PipelineConfig, cache_dir: str | Path | None = None,
            report: RunReport | None = None):
        """Run ``make_steps(config)`` over ``dataset``; returns a ``datasets.Dataset`` in input order."""

    def run_languages(self, inputs: Mapping[str, Any], configs: Mapping[str, PipelineConfig],
                      dst: str | Path, report: RunReport | None = None) -> dict[str, Any]:
        """Several target languages (``inputs[lang]``: a ``datasets.Dataset``), one after another."""
        return {lang: self.run(ds, configs[lang], Path(dst) / ".cache", report) for lang, ds in inputs.items()}

    def __call__(self, dataset, config: PipelineConfig, cache_dir: str | Path | None = None,
                 report: RunReport | None = None):
        return self.run(dataset, config, cache_dir, report)

    def open(self) -> Runner:
        """Acquire the workers now (a runner also does it on first use)."""
        return self

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release what :meth:`open` acquired."""

    def __enter__(self) -> Runner:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()
