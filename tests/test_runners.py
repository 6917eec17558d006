"""Runners: the Ray backend builds the same rows as the local one, resumes after a SIGKILL
without duplicating an id, and fails clearly without Ray or without a reachable cluster.

One Ray (``ray.init(num_cpus=2)``) serves the module; a tiny random BERT stands in for e5-small
(alignment quality is not under test, the plumbing is: ``benchmarks/bench_scale.py`` runs e5-small).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from datasets import Dataset

from nerxl_data.align.pharaoh import parse_links
from nerxl_data.builders.base import BuildOptions
from nerxl_data.builders.europarl_ner import EuroparlNer
from nerxl_data.errors import ConfigError, InputError, MissingDependencyError
from nerxl_data.pipeline import AlignConfig, PipelineConfig, RunReport, run_pipeline, source_rows
from nerxl_data.runners import get_runner
from nerxl_data.runners.parts import MARKER, part_files, read_ids, read_parts, to_table, write_part
from nerxl_data.runners.ray_data import RayConfig, RayRunner, parse_address
from nerxl_data.testing.encoders import build_tiny_bert

N = 100


@pytest.fixture(scope="module")
def europarl(europarl_en_de):
    en, de = europarl_en_de
    return en[:N], de[:N]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory, europarl):
    en, de = europarl
    return str(build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), [" ".join(r["tokens"]) for r in en + de]))


@pytest.fixture(scope="module")
def ray_address():
    """One local Ray for the module (two CPUs, no local_mode); its address for subprocesses."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def local_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("local-cache")


def _opts(tiny_bert, data_dir, cache_dir) -> BuildOptions:
    return BuildOptions("de", "heuristic-e5small", aligner_model=tiny_bert, aligner_options={"layer": 2},
                        limit=N, data_dir=str(data_dir), cache_dir=str(cache_dir))


def _config(tiny_bert) -> PipelineConfig:
    return PipelineConfig("en", "de", aligner=AlignConfig("simalign-argmax", tiny_bert, {"layer": 2}))


def _input(europarl) -> Dataset:
    en, de = europarl
    return Dataset.from_dict(source_rows(en, "en", [r["tokens"] for r in de]))


def _by_id(rows: dict[str, list]) -> dict[str, dict]:
    return {id_: {k: v[i] for k, v in rows.items()} for i, id_ in enumerate(rows["id"])}


def _assert_same_rows(a: dict[str, list], b: dict[str, list]) -> None:
    """Same ids in the same order, every column equal; scores equal up to float32 noise.

    A Ray worker encodes other batches (and with another thread count) than a local run, and a
    transformer's float32 output depends on the batch's shape by a few ulps (1.2e-7 on this
    machine, more on CPUs whose kernels block differently): a 4-decimal alignment score can round
    the other way. Which links there are, and every tag, must still be the same.
    """
    assert a["id"] == b["id"] and a.keys() == b.keys()
    for k in a:
        if k in ("alignment", "projection_score"):
            continue
        assert a[k] == b[k], k
    for id_, x, y in zip(a["id"], a["alignment"], b["alignment"], strict=True):
        lx = {(link.src, link.tgt): link.score for link in parse_links(x)}
        ly = {(link.src, link.tgt): link.score for link in parse_links(y)}
        assert lx.keys() == ly.keys(), id_
        assert list(lx.values()) == pytest.approx(list(ly.values()), abs=2e-4), id_
    if "projection_score" in a:
        assert a["projection_score"] == pytest.approx(b["projection_score"], abs=2e-4)


def test_ray_build_equals_local_build_and_skips_finished_language(
        europarl, tiny_bert, data_dir, ray_address, local_cache, tmp_path):
    builder = EuroparlNer()
    local, _ = builder.build(_opts(tiny_bert, data_dir, local_cache))
    runner = RayRunner(RayConfig(batch_size=16, rows_per_file=25))
    report = RunReport()
    remote, info = builder.build(_opts(tiny_bert, data_dir, tmp_path), runner=runner, run_report=report)
    assert report.computed["align"] == 1 and not report.cached
    a, b = local["train"].to_dict(), remote["train"].to_dict()
    assert a["id"] == b["id"] and len(a["id"]) + len(local["validation"]) == N  # same ids, same order
    _assert_same_rows(local["validation"].to_dict(), remote["validation"].to_dict())
    _assert_same_rows(a, b)  # every column, tags and alignment scores included
    assert sum(len(t) for t in b["ner_tags"]) > 0 and info.splits["train"].projected_entities > 0
    # parquet parts per language plus a marker; a rerun reads them back and runs nothing
    (lang_dir,) = (tmp_path / "ray").glob("*/de")
    assert (lang_dir / MARKER).exists() and len(part_files(lang_dir)) >= N // 25
    assert json.loads((lang_dir / MARKER).read_text())["rows"] == N
    report = RunReport()
    again, _ = builder.build(_opts(tiny_bert, data_dir, tmp_path), runner=runner, run_report=report)
    assert report.cached["align"] == 1 and not report.computed
    assert again["train"].to_dict() == b


_KILLED_BUILD = """
import json, sys
from datasets import Dataset
from nerxl_data.pipeline import AlignConfig, PipelineConfig
from nerxl_data.runners.ray_data import RayConfig, RayRunner
a = json.loads(sys.argv[1])
cfg = PipelineConfig("en", "de", aligner=AlignConfig("simalign-argmax", a["model"], {"layer": 2}))
with RayRunner(RayConfig(address=a["address"], num_workers=1, batch_size=4, shard_size=4, rows_per_file=4)) as r:
    r.run_languages({"de": Dataset.from_dict(a["rows"])}, {"de": cfg}, a["dst"])
"""


def test_killed_ray_build_resumes_with_every_id_once(europarl, tiny_bert, ray_address, local_cache, tmp_path):
    ds = _input(europarl)
    dst = tmp_path / "dst"
    args = {"model": tiny_bert, "address": ray_address, "rows": ds.to_dict(), "dst": str(dst)}
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_BUILD, json.dumps(args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300  # a guard against a hang, not a speed test: a loaded machine starts Ray slowly
    while len(part_files(dst / "de")) < 3:
        assert proc.poll() is None, f"the build ended before it was killed:\n{proc.stderr.read()[-2000:]}"
        assert time.time() < deadline, "no parts written within 300 s"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    before = read_ids(dst / "de")
    assert not (dst / "de" / MARKER).exists() and 0 < len(before) < N

    runner = RayRunner(RayConfig(batch_size=32, rows_per_file=50))
    out = runner.run_languages({"de": ds}, {"de": _config(tiny_bert)}, dst)["de"]
    marker = json.loads((dst / "de" / MARKER).read_text())
    assert marker["rows"] == N and marker["resumed"] == len(before)  # old parts kept, not redone
    written = [i for p in part_files(dst / "de") for i in pq.read_table(p, columns=["id"])["id"].to_pylist()]
    assert sorted(written) == sorted(ds["id"])  # every id exactly once on disk
    assert not list((dst / "de").glob(".*.nerxl-tmp-*"))
    # and the rows are those of an uninterrupted local run
    got, want = _by_id(out.to_dict()), _by_id(run_pipeline(ds, _config(tiny_bert), local_cache).to_dict())
    assert got.keys() == want.keys()
    ids = sorted(got)
    _assert_same_rows(*({k: [rows[i][k] for i in ids] for k in rows[ids[0]]} for rows in (got, want)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_address_fails_fast(ray_address):
    from nerxl_data.cli import main

    address = f"127.0.0.1:{_free_port()}"
    start = time.time()
    with pytest.raises(ConfigError, match="cannot reach a Ray cluster at 127.0.0.1"):
        get_runner("ray", address=address).open()
    r = CliRunner().invoke(main, ["build", "europarl-ner", "--lang", "de", "--backend", "ray", "--address", address])
    assert time.time() - start < 30
    assert r.exit_code == 2 and "cannot reach a Ray cluster" in r.output and "ray start --head" in r.output
    assert parse_address("ray://10.1.2.3") == ("10.1.2.3", 10001)
    with pytest.raises(ConfigError, match="HOST:PORT"):
        parse_address("head:port")
    with pytest.raises(ConfigError, match="need --backend ray"):
        get_runner("local", address=address)


def test_missing_ray_names_the_extra(monkeypatch):
    from nerxl_data.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if not installed
    with pytest.raises(MissingDependencyError, match=r"pip install 'nerxl-data\[ray\]'"):
        get_runner("ray")
    r = CliRunner().invoke(main, ["build", "europarl-ner", "--lang", "de", "--backend", "ray"])
    assert r.exit_code == 2 and "nerxl-data[ray]" in r.output


def test_parts_are_idempotent_ordered_and_deduplicated(tmp_path):
    t = pa.table({"id": ["a", "b"], "x": [1, 2]})
    assert write_part(t, tmp_path) == write_part(t, tmp_path)  # a retried task replaces its part
    write_part(pa.table({"id": ["c", "b"], "x": [3, 2]}), tmp_path)  # two runs racing on "b"
    assert read_parts(tmp_path, ["c", "b", "a"]).to_pydict() == {"id": ["c", "b", "a"], "x": [3, 2, 1]}
    with pytest.raises(InputError, match="'z' is in the input but in no part"):
        read_parts(tmp_path, ["a", "z"])


def test_duplicate_ids_are_refused_before_any_work(tmp_path):
    from nerxl_data.runners.ray_data import write_input

    ds = Dataset.from_dict({"id": ["1", "2", "1"], "tokens": [["a"], ["b"], ["c"]]})
    with pytest.raises(InputError, match="row 2: id '1' occurs twice"):
        write_input(ds, tmp_path / "in")


def test_model_steps_get_actor_pools_with_fractional_gpus(tiny_bert, monkeypatch):
    """The scheduling plan on a (pretended) node with one GPU and 8 CPUs, and on a CPU-only one."""
    import ray

    from nerxl_data.pipeline import TranslateConfig, make_steps
    from nerxl_data.runners.ray_data import StepActor, uses_model

    config = PipelineConfig("en", "de", translator=TranslateConfig("hf", tiny_bert),  # a path: no Hub check
                            aligner=AlignConfig("simalign-argmax", tiny_bert))
    translate, align, project = make_steps(config)
    assert [uses_model(s) for s in (translate, align, project)] == [True, True, False]
    assert [s.name for s in make_steps(_config(tiny_bert))] == ["align", "project"]  # parallel text

    runner = RayRunner(RayConfig())
    monkeypatch.setattr(ray, "cluster_resources", lambda: {"GPU": 1.0, "CPU": 8.0})
    t, a, p = (runner._map_kwargs(s) for s in (translate, align, project))
    assert t["num_gpus"] + a["num_gpus"] == 1.0  # translator and aligner share the card
    assert (a["compute"].min_size, a["compute"].max_size) == (1, 2)
    assert a["fn_constructor_kwargs"]["step"] is align and a["batch_size"] == align.resources.batch_size
    assert "num_gpus" not in p and "compute" not in p and p["num_cpus"] == 1
    monkeypatch.setattr(ray, "cluster_resources", lambda: {"CPU": 4.0})
    a = runner._map_kwargs(align)
    assert "num_gpus" not in a and a["compute"].max_size == 4  # no card: one actor per CPU
    assert isinstance(StepActor(project)(to_table({"id": []})), pa.Table)


def test_a_failed_join_names_token_authentication_when_a_token_is_around(tmp_path):
    from nerxl_data.runners.ray_data import auth_hint

    assert auth_hint({}, tmp_path) == ""  # no token anywhere: nothing to suggest
    assert "RAY_AUTH_MODE=token" in auth_hint({"RAY_AUTH_TOKEN": "x"}, tmp_path)
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("x")
    assert "RAY_AUTH_MODE=token" in auth_hint({}, tmp_path)
    assert auth_hint({"RAY_AUTH_MODE": "token"}, tmp_path) == ""  # already sent: the cause is elsewhere
