"""The scaling experiment end to end with a tiny model: k = 1..2, every method, resume, errors."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from nerxl_data.cli import main as cli
from nerxl_data.errors import ConfigError
from nerxl_data.train.scaling import ScalingConfig, ScalingRun

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny(data_dir, tmp_path_factory, tiny_bert_from_words):
    from nerxl_data.train.data import load_source
    
    text = []
    for s in ("masakhaner2:yor", "masakhaner2:swa", "conll:en"):
        text += list(load_source(s, data_dir=data_dir)["train"]["tokens"][:150])
    return tiny_bert_from_words(tmp_path_factory.mktemp("tiny"), text)


def _cfg(tiny, out, data_dir, **kw):
    return ScalingConfig(target="yor", sources=["en", "swa"], model=str(tiny), out=str(out), max_sentences=24,
                         max_test_sentences=24, align_layer=2, learning_rate=1e-3, batch_size=8, num_layers=1,
                         data_dir=str(data_dir), **kw)


def test_scaling_k1_k2_all_methods_and_resume(tiny, tmp_path, data_dir):
    out = tmp_path / "run"
    run = ScalingRun(_cfg(tiny, out, data_dir))
    cells = run.run()
    assert len(cells) == 8 and len(run.computed) == 8
    by = {(c["method"], c["k"]): c for c in cells}
    assert by[("direct", 2)]["n_train"] == 48 and by[("direct", 2)]["sources"] == ["en", "swa"]
    assert by[("direct", 1)]["f1"] == json.loads((out / "teachers" / "en" / "done.json").read_text())["target_test"]["overall_f1"]
    ts = by[("ts-weighted", 2)]
    assert set(ts["teachers"]) == {"en", "swa"} and sum(t["weight"] for t in ts["teachers"].values()) == pytest.approx(1.0, abs=1e-3)
    assert ts["weighting"] == "similarity" and "cosine" in ts["teachers"]["en"]
    assert sum(t["agreement"] for t in ts["teachers"].values()) == pytest.approx(1.0, abs=1e-3)
    assert by[("ts-weighted", 1)]["f1"] == by[("ts-uniform", 1)]["f1"]
    # Projection: English has LAFAND en-yor text, Swahili none with Yoruba; both are stated.
    meta = json.loads(next((out / "silver").glob("*/en.meta.json")).read_text())  # silver/<projection key>/
    assert meta["n"] == 24 and meta["files"][0].endswith("en-yor/train.en")
    assert "no parallel text for swa" in by[("projection", 2)]["notes"]
    assert by[("projection", 1)]["n_train"] == 24
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert len(rows) == 8 and {r["seed"] for r in rows} == {"42"}
    md = (out / "results.md").read_text()
    assert "| 2 | en+swa |" in md and "lacks DATE" in md and "MISC" in md
    assert (out / "scaling.png").stat().st_size > 1000
    assert json.loads((out / "config.json").read_text())["max_sentences"] == 24
    assert json.loads((out / "teachers" / "swa" / "config.json").read_text())["num_hidden_layers"] == 1

    again = ScalingRun(_cfg(tiny, out, data_dir))
    assert [c["f1"] for c in again.run()] == [c["f1"] for c in cells]
    assert again.computed == []  # nothing recomputed
    with pytest.raises(ConfigError, match="other options"):
        ScalingRun(_cfg(tiny, out, data_dir, seed=7)).run()


def test_scaling_errors(tiny, tmp_path, data_dir, monkeypatch):
    no_test = tmp_path / "tgt"
    no_test.mkdir()
    (no_test / "train.txt").write_text((data_dir / "masakhaner2/yor/dev.txt").read_text(encoding="utf-8")[:2000], encoding="utf-8")
    with pytest.raises(ConfigError, match="has no test split"):
        ScalingRun(ScalingConfig(target=str(no_test), sources=["swa"], model=str(tiny), out=str(tmp_path / "o"),
                                 data_dir=str(data_dir))).run()
    with pytest.raises(ConfigError, match="Unknown scaling method"):
        ScalingConfig(target="yor", sources=["en"], methods=["direct", "zero-shot"])
    with pytest.raises(ConfigError, match="also a source"):
        ScalingConfig(target="yor", sources=["en", "yor"])
    monkeypatch.setenv("NERXL_DATA_DIR", str(data_dir))
    r = CliRunner().invoke(cli, ["experiment", "scaling", "--target", "yor", "--sources", "en,xx", "--model", str(tiny),
                                 "--out", str(tmp_path / "c")])
    assert r.exit_code == 2 and "Unknown masakhaner2 language 'xx'" in r.output
