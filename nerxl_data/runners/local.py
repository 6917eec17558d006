"""The ``local`` backend: exactly :func:`nerxl_data.pipeline.run_pipeline` in this process."""

from __future__ import annotations

from pathlib import Path

from ..pipeline import PipelineConfig, RunReport, run_pipeline
from .base import Runner


class LocalRunner(Runner):
    """``datasets.map(batched=True)`` over the steps, cached per shard and step under ``cache_dir``.

    >>> LocalRunner().name
    'local'
    """

    name = "local"

    def __init__(self, shard_size: int = 500) -> None:
        self.shard_size = shard_size

    def run(self, dataset, config: PipelineConfig, cache_dir: str | Path | None = None,
            report: RunReport | None = None):
        return run_pipeline(dataset, config, cache_dir, self.shard_size, report)
