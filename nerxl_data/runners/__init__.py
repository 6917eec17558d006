"""Runners: the same steps (``nerxl_data.pipeline``) executed in-process or on a Ray cluster.

A :class:`Runner` takes a pipeline input (a ``datasets.Dataset`` of one target language) and a
:class:`~nerxl_data.pipeline.PipelineConfig`, runs :func:`~nerxl_data.pipeline.make_steps` over
it and returns the dataset with the steps' columns. It has the signature of
:func:`~nerxl_data.pipeline.run_pipeline`, so a builder takes it as is
(``builder.build(opts, out, runner=runner)``). Backends:

- ``local``: :func:`~nerxl_data.pipeline.run_pipeline`, i.e. ``datasets.map(batched=True)`` in
  this process, with the per-step Arrow cache.
- ``ray``: Ray Data (extra ``ray``): parquet shards in, one ``map_batches`` per step (an actor
  pool, model loaded once per actor, for model steps; CPU tasks for projection), parquet parts
  out per language with a completion marker; reruns resume by id (:mod:`.parts`).

>>> get_runner("local").name
'local'
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError, unknown_name
from .base import Runner

BACKENDS: tuple[str, ...] = ("local", "ray")


def get_runner(backend: str = "local", address: str | None = None, **options: Any) -> Runner:
    """A runner by backend name; ``address`` (a Ray cluster) and ``options`` go to the ``ray`` backend.

    Raises:
        ConfigError: an unknown backend, or ``address`` with the ``local`` backend.
        MissingDependencyError: ``ray`` without Ray installed (names the extra).
    """
    if backend == "local":
        if address is not None or options:
            raise ConfigError("--address and Ray options need --backend ray")
        from .local import LocalRunner

        return LocalRunner()
    if backend == "ray":
        from .ray_data import RayConfig, RayRunner

        return RayRunner(RayConfig(address=address, **options))
    raise unknown_name("runner backend", backend, BACKENDS)


__all__ = ["BACKENDS", "Runner", "get_runner"]
