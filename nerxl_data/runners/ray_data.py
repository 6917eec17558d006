"""The ``ray`` backend: the pipeline's steps as a Ray Data job, resumable per language.

For each target language (a batch never mixes languages: a translator such as NLLB forces one
target-language token per batch)::

    parquet shards (DST/_input/{lang})
      -> map_batches(step) for each step of make_steps(config)
           model steps (translate, tag, align): an actor pool, the model loaded once per actor,
             with the step's fractional GPUs (Resources.num_gpus) when the cluster has GPUs,
             so a translator and an aligner at 0.5 each share one card;
           other steps (projection, a 'parallel' translation): CPU tasks;
      -> parquet parts DST/{lang}/part-*.parquet, then DST/{lang}/_SUCCESS.

A rerun skips languages with a marker and, for a half-finished one, reads the ids already written
and processes only the others (see :mod:`.parts`), so no row is duplicated.

Without ``address`` the runner starts a Ray on this machine (and stops it when done); with one it
connects to a running cluster (``ray start --head``), after checking that the address answers.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError, NerxlError, require
from ..pipeline import (
    PipelineConfig,
    RunReport,
    Step,
    content_fingerprint,
    fingerprint,
    make_steps,
)
from .base import Runner
from .parts import (
    clean_temporary,
    is_complete,
    mark_complete,
    read_ids,
    read_parts,
    to_table,
    write_part,
)

logger = logging.getLogger(__name__)

DEFAULT_GCS_PORT = 6379
DEFAULT_CLIENT_PORT = 10001


@dataclass
class RayConfig:
    """Options of the Ray runner.

    Args:
        address: a running cluster (``HOST:PORT`` of its head, ``ray://HOST:PORT`` for Ray
            Client, or ``auto``); ``None`` starts a Ray on this machine.
        num_workers: actors per model step (default: as many as the cluster's GPUs, or CPUs,
            allow, starting from one).
        num_cpus: CPUs of the Ray started here (default: all).
        batch_size: rows per batch for every step (default: each step's ``Resources``).
        shard_size: rows per input parquet shard, the unit of parallel work (500, as the shards of
            ``run_pipeline``: the batches, hence the padded model inputs, are the local run's).
        rows_per_file: rows per output part at most.
        connect_timeout: seconds to wait for ``address`` to answer.
    """

    address: str | None = None
    num_workers: int | None = None
    num_cpus: int | None = None
    batch_size: int | None = None
    shard_size: int = 500
    rows_per_file: int = 1000
    connect_timeout: float = 10.0


def parse_address(address: str) -> tuple[str, int]:
    """``HOST[:PORT]`` or ``ray://HOST[:PORT]`` -> (host, port) of the port that must answer.

    >>> parse_address("10.0.0.5:6380"), parse_address("ray://head"), parse_address("head")
    (('10.0.0.5', 6380), ('head', 10001), ('head', 6379))
    """
    client = address.startswith("ray://")
    rest = address.removeprefix("ray://").rstrip("/")
    host, sep, port = rest.rpartition(":")
    if not sep:
        host, port = rest, ""
    if not host or (port and not port.isdigit()):
        raise ConfigError(f"Ray address {address!r} must read HOST:PORT or ray://HOST:PORT")
    return host, int(port) if port else (DEFAULT_CLIENT_PORT if client else DEFAULT_GCS_PORT)


def check_reachable(address: str, timeout: float = 10.0) -> None:
    """Fail fast (within ``timeout`` seconds) when nothing listens at ``address``.

    ``ray.init`` would otherwise retry for minutes against a wrong address.

    Raises:
        ConfigError: the host does not resolve or the port does not answer.
    """
    host, port = parse_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise ConfigError(
            f"cannot reach a Ray cluster at {address} ({host}:{port}: {exc or 'timed out'}); start "
            "one with `ray start --head` and pass the address it prints, or leave out --address "
            "to run Ray on this machine"
        ) from exc


# --- what the workers run ----------------------------------------------------------------------


def _apply(step: Step, table):
    """One step over an Arrow batch: the input columns plus the step's new columns."""
    cols = table.to_pydict()
    if table.num_rows == 0:
        return table
    return to_table({**cols, **step.process(cols)})


class StepActor:
    """A model step on a Ray actor: ``setup()`` once in ``__init__``, then one batch per call."""

    def __init__(self, step: Step) -> None:
        self.step = step
        step.setup()

    def __call__(self, table):
        return _apply(self.step, table)


def step_task(table, step: Step):
    """A light step (no model) as a stateless Ray task: setup is cheap, so it runs per task."""
    step.setup()
    return _apply(step, table)


def read_shard(paths):
    """The rows of the parquet shards named in a batch of ``path``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pa.concat_tables([pq.read_table(p) for p in paths.column("path").to_pylist()])


def drop_done(table, done: frozenset):
    """The rows whose id is not in ``done`` (the ids a previous run already wrote)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not done:
        return table
    return table.filter(pc.invert(pc.is_in(table.column("id"), value_set=pa.array(sorted(done), pa.string()))))


def write_task(table, folder: str):
    """Write a batch as one part; returns its row count (the only thing sent back)."""
    import pyarrow as pa

    if table.num_rows:
        write_part(table, folder)
    return pa.table({"rows": [table.num_rows]})


def uses_model(step: Step) -> bool:
    """Whether a step loads a model (-> actor pool) or is light (-> tasks)."""
    return step.resources.num_gpus > 0


def auth_hint(environ, home: Path) -> str:
    """A hint for a failed join when token authentication is likely the cause.

    ``ray start --head`` (Ray 2.5x) keeps a token in ``~/.ray/auth_token`` and refuses clients
    that do not send one; ``ray.init(address=HOST:PORT)`` sends it only with ``RAY_AUTH_MODE=token``
    (the C++ client logs ``InvalidAuthToken``; the Python error says only "Failed to connect").
    """
    if environ.get("RAY_AUTH_MODE", "").lower() == "token":
        return ""
    if environ.get("RAY_AUTH_TOKEN") or (home / ".ray" / "auth_token").is_file():
        return ("; if the cluster uses token authentication, "
                "run with RAY_AUTH_MODE=token (and RAY_AUTH_TOKEN where ~/.ray/auth_token is not shared)")
    return ""


# --- the runner --------------------------------------------------------------------------------


class RayRunner(Runner):
    """Runs the steps with Ray Data (see the module docstring).

    Raises:
        MissingDependencyError: Ray is not installed (``pip install 'nerxl-data[ray]'``).
    """

    name = "ray"

    def __init__(self, config: RayConfig | None = None) -> None:
        self.config = config or RayConfig()
        self._ray = require("ray", "ray", "the ray runner backend")
        require("ray.data", "ray", "the ray runner backend")
        self._started = False
        self._open = False

    # connection --------------------------------------------------------------------------------
    def open(self) -> RayRunner:
        ray = self._ray
        if self._open:
            return self
        address = self.config.address
        if address not in (None, "auto", "local"):
            check_reachable(address, self.config.connect_timeout)
        if ray.is_initialized():  # a Ray this process already joined (tests, notebooks)
            self._open = True
            return self
        try:
            if address is None:
                ray.init(num_cpus=self.config.num_cpus, include_dashboard=False)
            else:
                ray.init(address=address)
        except (ConnectionError, RuntimeError, TimeoutError) as exc:
            raise ConfigError(f"could not join the Ray cluster at {address or 'this machine'}: {exc}"
                              f"{auth_hint(os.environ, Path.home()) if address else ''}") from exc
        self._started = self._open = True
        return self

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
        self._started = self._open = False

    # one language -------------------------------------------------------------------------------
    def _map_kwargs(self, step: Step) -> dict[str, Any]:
        """``map_batches`` arguments of a step: batch size, resources and, for models, the pool."""
        res = step.resources
        kw: dict[str, Any] = {"batch_format": "pyarrow",
                              "batch_size": self.config.batch_size or res.batch_size}
        if not uses_model(step):
            return {**kw, "fn_kwargs": {"step": step}, "num_cpus": res.num_cpus}
        from ray.data import ActorPoolStrategy

        total = self._ray.cluster_resources()
        gpus = res.num_gpus if total.get("GPU", 0) > 0 else 0.0
        if self.config.num_workers is not None:
            pool = ActorPoolStrategy(size=self.config.num_workers)
        else:  # grow from one actor to as many as fit (a fixed size could wait forever for a card)
            fit = total.get("GPU", 0) / gpus if gpus else total.get("CPU", 1) / max(res.num_cpus, 1e-3)
            pool = ActorPoolStrategy(min_size=1, max_size=max(1, int(fit)))
        kw.update(fn_constructor_kwargs={"step": step}, compute=pool, num_cpus=res.num_cpus)
        if gpus:
            kw["num_gpus"] = gpus
        return kw

    def run_language(self, input_dir: str | Path, config: PipelineConfig, out: str | Path,
                     ids: list[str]) -> dict[str, int]:
        """Process the ids of ``input_dir`` (parquet shards) missing from ``out``; mark it complete.

        Returns:
            ``{"rows": all, "resumed": already written, "processed": written now}``.

        Raises:
            NerxlError: some ids are still missing after the job (nothing is marked complete).
        """
        import ray.data

        out = Path(out)
        if is_complete(out):
            return {"rows": len(ids), "resumed": len(ids), "processed": 0}
        n_tmp = clean_temporary(out)
        if n_tmp:
            logger.info("%s: removed %d temporary files of an interrupted run", out, n_tmp)
        done = read_ids(out)
        todo = len(set(ids) - done)
        if todo:
            # one block per shard, read by a task: ray.data.read_parquet merges small files into
            # one read task, whose block then flows (and is written) only as a whole
            shards = sorted(str(p) for p in Path(input_dir).glob("shard-*.parquet"))
            ds = ray.data.from_items([{"path": p} for p in shards], override_num_blocks=len(shards))
            # reading reserves no CPU: actors that hold every CPU must still get their input
            ds = ds.map_batches(read_shard, batch_size=1, batch_format="pyarrow", num_cpus=0)
            if done:
                ds = ds.map_batches(drop_done, batch_format="pyarrow", fn_kwargs={"done": frozenset(done)},
                                    num_cpus=0)
            steps = make_steps(config)
            for step in steps:
                fn = StepActor if uses_model(step) else step_task
                ds = ds.map_batches(fn, **self._map_kwargs(step))
            # the same CPUs as the last (light) step, so Ray fuses the two into one task that writes
            # its rows as soon as they are projected (rather than queueing them behind the budget)
            ds = ds.map_batches(write_task, batch_format="pyarrow", batch_size=self.config.rows_per_file,
                                fn_kwargs={"folder": str(out)}, num_cpus=steps[-1].resources.num_cpus)
            processed = sum(b["rows"].to_pylist()[0] for b in ds.iter_batches(batch_format="pyarrow", batch_size=1))
            logger.info("%s: %d rows processed, %d resumed", out, processed, len(done))
        else:
            processed = 0
        missing = set(ids) - read_ids(out)
        if missing:
            raise NerxlError(f"{len(missing)} of {len(ids)} ids missing after the job "
                             f"(e.g. {sorted(missing)[0]!r}); rerun to resume", source=str(out))
        mark_complete(out, len(ids), resumed=len(done & set(ids)))
        return {"rows": len(ids), "resumed": len(done & set(ids)), "processed": processed}

    # many languages -----------------------------------------------------------------------------
    def run_languages(self, inputs: Mapping[str, Any], configs: Mapping[str, PipelineConfig],
                      dst: str | Path, report: RunReport | None = None) -> dict[str, Any]:
        """Build each language of ``inputs`` (a ``datasets.Dataset`` each) into ``dst/{lang}``.

        Returns:
            {lang: ``datasets.Dataset``} in input order, read back from the parts.
        """
        from datasets import Dataset

        dst = Path(dst)
        results = {}
        self.open()
        for lang, dataset in inputs.items():
            config = configs[lang]
            if config.target_lang != lang:
                raise ConfigError(f"inputs[{lang!r}] has a config for target language {config.target_lang!r}")
            ids = write_input(dataset, dst / "_input" / lang, self.config.shard_size)
            stats = self.run_language(dst / "_input" / lang, config, dst / lang, ids)
            if report is not None:
                counter = report.computed if stats["processed"] else report.cached
                counter.update(step.name for step in make_steps(config))
            table = read_parts(dst / lang, ids)
            results[lang] = Dataset.from_dict(table.to_pydict())
        return results

    def run(self, dataset, config: PipelineConfig, cache_dir: str | Path | None = None,
            report: RunReport | None = None):
        """One language, with its parts under ``cache_dir/ray/<fingerprint>`` (a temporary folder
        without ``cache_dir``): the fingerprint covers the input rows and the steps' configs, so a
        rerun of the same build resumes and a changed build starts afresh."""
        lang = config.target_lang
        report = report if report is not None else RunReport()
        if cache_dir is None:
            with tempfile.TemporaryDirectory(prefix="nerxl-ray-") as tmp:
                return self.run_languages({lang: dataset}, {lang: config}, tmp, report)[lang]
        fp = fingerprint(content_fingerprint(dataset), *(s.fingerprint() for s in make_steps(config)))
        return self.run_languages({lang: dataset}, {lang: config}, Path(cache_dir) / "ray" / fp, report)[lang]


def write_input(dataset, folder: Path, shard_size: int = 500) -> list[str]:
    """Write ``dataset`` as parquet shards into ``folder`` (once: a marker records it); its ids.

    Raises:
        InputError: the input is empty, has no ``id`` column, or repeats an id (ids are the key).
    """
    if len(dataset) == 0:
        raise InputError("nothing to build: the input has no sentences")
    if "id" not in dataset.column_names:
        raise InputError(f"the input needs an 'id' column; columns are {dataset.column_names}")
    ids = [str(i) for i in dataset["id"]]
    seen: set[str] = set()
    for row, id_ in enumerate(ids):
        if id_ in seen:
            raise InputError(f"id {id_!r} occurs twice (ids are the key of a resumable build)", row=row)
        seen.add(id_)
    marker = folder / "_SUCCESS"
    if marker.exists():
        return ids
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("shard-*.parquet"):
        old.unlink()
    for k, start in enumerate(range(0, len(dataset), shard_size)):
        shard = dataset.select(range(start, min(start + shard_size, len(dataset))))
        shard.to_parquet(str(folder / f"shard-{k:05d}.parquet"))
    marker.write_text(json.dumps({"rows": len(ids)}) + "\n")
    return ids
