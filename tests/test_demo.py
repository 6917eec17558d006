"""`nerxl demo` end to end: offline, CPU, bundled sample, e5-small; F1 printed, folder loadable."""

from __future__ import annotations

import re

import yaml
from click.testing import CliRunner
from datasets import load_dataset

from nerxl_data.cli import main
from nerxl_data.corpora.conll import read_conll
from nerxl_data.resources import demo_path


def test_demo_end_to_end(e5_small_path, tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out), "--aligner-model", str(e5_small_path)])
    assert result.exit_code == 0, result.output
    # its speed (< 2 minutes on CPU) is measured in benchmarks/bench_build.py, not asserted here

    scores = dict(re.findall(r"en -> (\w+) .* projection F1 vs gold ([\d.]+)", result.output))
    assert set(scores) == {"de", "es"}
    assert all(float(f1) > 85 for f1 in scores.values()), result.output

    line = result.output.strip().splitlines()[-1].strip()
    m = re.fullmatch(r'datasets\.load_dataset\("(.+)", "(de\.[\w-]+)"\)', line)
    assert m, line
    dd = load_dataset(m.group(1), m.group(2))
    names = dd["train"].features["ner_tags"].feature.names
    assert set(dd) == {"train", "validation"}  # a silver validation split is held out
    ds = sorted([*dd["train"], *dd["validation"]], key=lambda r: int(r["id"]))
    ds = {c: [r[c] for r in ds] for c in ("tokens", "ner_tags")}
    gold = list(read_conll(demo_path("de")))
    assert ds["tokens"] == [r["tokens"] for r in gold]
    # the printed F1 is the F1 of the written labels against the sample's gold
    from nerxl_data.evaluation import evaluate_tags

    f1 = evaluate_tags([r["ner_tags"] for r in gold], [[names[t] for t in s] for s in ds["ner_tags"]])
    assert abs(f1["micro"]["f1"] - float(scores["de"])) < 0.06

    meta = yaml.safe_load((out / "README.md").read_text().split("---")[1])
    assert [c["config_name"] for c in meta["configs"]] == [m.group(2), m.group(2).replace("de.", "es.")]
    assert meta["license"] == "apache-2.0"
