"""The scaling experiment end to end with a tiny model: two targets, two sources, 2 seeds, 2 orders;
sharing, resumption, intervals, the plot, the builder's silver folder, no all-O model."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from nerxl_data.cli import main as cli
from nerxl_data.errors import ConfigError
from nerxl_data.experiments.scaling import (
    Experiment,
    ExperimentConfig,
    mean_difference,
    mean_interval,
    summarise,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny(data_dir, tmp_path_factory, tiny_bert_from_words):
    from nerxl_data.train.data import load_source

    text = []
    for s in ("masakhaner2:yor", "masakhaner2:hau", "masakhaner2:swa", "conll2003:en"):
        text += list(load_source(s, data_dir=data_dir)["train"]["tokens"][:150])
    return tiny_bert_from_words(tmp_path_factory.mktemp("tiny"), text)


def _cfg(tiny, out, data_dir, **kw):
    base = dict(targets=["yor", "hau"], sources=["en", "swa"], model=str(tiny), out=str(out), seeds=2, orders=2,
                max_sentences=32, max_unlabeled=32, max_test_sentences=30, max_silver=16, epochs=2, min_steps=12,
                learning_rate=3e-3, batch_size=8, aligner_model=str(tiny), align_layer=2, data_dir=str(data_dir),
                methods=["direct", "ts-uniform", "ts-lid", "projection", "in-language"])
    return ExperimentConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def run(tiny, tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("scaling") / "run"
    exp = Experiment(_cfg(tiny, out, data_dir))
    rows = exp.run()
    return exp, rows, out


def test_models_are_shared_across_targets_and_orders(run):
    exp, rows, out = run
    # One model per source subset and seed, whatever the number of targets and orders using it.
    direct = [k for k in exp.trained if k.startswith("direct/")]
    assert sorted(direct) == sorted(
        [f"direct/{s}-nall-s{seed}" for s in ("en", "swa", "yor", "hau") for seed in (0, 1)]
        + [f"direct/en+swa-nall-s{seed}" for seed in (0, 1)])
    teacher = json.loads((out / "models/direct/en-nall-s0/done.json").read_text())
    assert set(teacher["evals"]) == {"yor", "hau"}  # evaluated once per target
    used = [r for r in rows if r["model"] == "direct/en-nall-s0"]
    assert {(r["target"], r["order"]) for r in used} >= {("yor", "given"), ("hau", "given")}
    # The k=1 teacher-student cell and the ts-lid cell at k=1 are the same student.
    s1 = {r["model"] for r in rows if r["method"] in ("ts-uniform", "ts-lid") and r["k"] == 1 and r["sources"] == "en"
          and r["target"] == "yor" and r["seed"] == 0}
    assert len(s1) == 1
    lid = next(r for r in rows if r["method"] == "ts-lid" and r["k"] == 2)
    assert sum(lid["weights"].values()) == pytest.approx(1.0, abs=1e-3)


def test_silver_model_and_student_predict_entities(run, tiny, tmp_path, data_dir):
    """A silver-trained model or a student that learned the all-O answer fails here (trained long
    enough for the tiny model to leave the all-O start, on the builder's silver set of the run)."""
    import shutil

    _, _, out = run
    shutil.copytree(out / "silver", tmp_path / "run" / "silver")
    exp = Experiment(_cfg(tiny, tmp_path / "run", data_dir, targets=["yor"], sources=["en"], seeds=1, orders=0,
                          methods=["projection", "ts-uniform"], min_steps=150, num_layers=1, learning_rate=1e-2))
    rows = exp.run()
    assert {r["method"] for r in rows} == {"projection", "ts-uniform"}
    assert all(r["n_pred"] > 0 for r in rows), [(r["model"], r["n_pred"]) for r in rows]
    assert "predict no entity" not in (tmp_path / "run" / "results.md").read_text()


def test_intervals_csv_markdown_plot(run):
    exp, rows, out = run
    summary = summarise(rows, 200)
    for (t, m, g, k), (mean, lo, hi, n, _) in summary.items():
        assert lo <= mean <= hi, (t, m, g, k)
        if g == "random":
            assert n == 4  # 2 seeds x 2 orders
    csv_rows = list(csv.DictReader(open(out / "results.csv")))
    assert len(csv_rows) == len(rows) and {r["seed"] for r in csv_rows} == {"0", "1"}
    assert {r["order"] for r in csv_rows} >= {"given", "random-0", "random-1", "similarity", "-"}
    md = (out / "results.md").read_text()
    assert "mean over 2 random orders" in md and "Mean over the 2 targets" in md and "in-language" in md
    assert "Differences, mean over the 2 targets" in md and "direct: k=2 minus k=1" in md
    assert "Silver:" in md and "capped at 30" in md and "best-single-source" in md
    assert (out / "scaling.png").stat().st_size > 5000


def test_silver_is_a_builder_config_that_nerxl_list_shows(run):
    _, rows, out = run
    res = CliRunner().invoke(cli, ["list", str(out / "silver")])
    assert res.exit_code == 0, res.output
    assert "yor.candidates-ngram" in res.output and "hau.candidates-ngram" in res.output
    proj = [r for r in rows if r["method"] == "projection"]
    assert {r["target"] for r in proj} == {"yor", "hau"} and all(r["silver"]["sentences"] == 16 for r in proj)
    assert all(r["n_train"] == r["silver"]["with_entity"] for r in proj)  # empty_ratio 0: entity-less dropped


def test_resume_trains_only_what_is_missing(run, tiny, data_dir):
    exp, rows, out = run
    again = Experiment(_cfg(tiny, out, data_dir))
    assert [r["f1"] for r in again.run()] == [r["f1"] for r in rows] and again.trained == []
    (out / "models/direct/en+swa-nall-s1/done.json").unlink()
    seed0 = Experiment(_cfg(tiny, out, data_dir))
    seed0.run(seeds=[0])  # a process given other seeds leaves seed 1's missing model alone
    assert seed0.trained == []
    third = Experiment(_cfg(tiny, out, data_dir))
    third.run(seeds=[1])
    assert third.trained == ["direct/en+swa-nall-s1"]
    with pytest.raises(ConfigError, match="other options"):
        Experiment(_cfg(tiny, out, data_dir, learning_rate=1e-4)).run()


def test_interval_holds_seed_spread():
    rng = np.random.default_rng(0)
    same = [np.tile([[1, 1, 1]], (50, 1))] * 3
    m, lo, hi = mean_interval(same, 200)
    assert m == lo == hi == 100.0
    spread = [np.stack([rng.integers(0, 2, 50), np.ones(50, int), np.ones(50, int)], 1) for _ in range(3)]
    m, lo, hi = mean_interval(spread, 500)
    assert lo < m < hi and hi - lo > 5


def test_errors_and_plan(tiny, tmp_path, data_dir, monkeypatch):
    with pytest.raises(ConfigError, match="Unknown scaling method"):
        ExperimentConfig(targets=["yor"], sources=["en"], methods=["direct", "zero-shot"])
    with pytest.raises(ConfigError, match="no source other than itself"):
        ExperimentConfig(targets=["yor"], sources=["yor"])
    monkeypatch.setenv("NERXL_DATA_DIR", str(data_dir))
    r = CliRunner().invoke(cli, ["experiment", "scaling", "--targets", "yor", "--sources", "en,xx", "--model", str(tiny),
                                 "--out", str(tmp_path / "c"), "--plan-only"])
    assert r.exit_code == 2 and "masakhaner2 'xx'" in r.output
    r = CliRunner().invoke(cli, ["experiment", "scaling", "--targets", "yor", "--sources", "en,swa", "--model", str(tiny),
                                 "--out", str(tmp_path / "p"), "--plan-only", "--budget-minutes", "1", "--methods", "direct"])
    assert r.exit_code == 0, r.output
    assert "plan (finetune recipe):" in r.output and "estimated" in r.output and "test 60" in r.output


def test_run_without_random_orders_reports_the_given_order(run, tiny, tmp_path, data_dir):
    """``--orders 0 --reference-orders given`` (the Wu et al. replication's shape): the models of
    the first run are reused, and the differences, the mean table and the plot use the given order."""
    import shutil

    _, _, out = run
    shutil.copytree(out, tmp_path / "run")
    exp = Experiment(_cfg(tiny, tmp_path / "run", data_dir, orders=0, reference_orders=["given"]))
    rows = exp.run()
    assert exp.trained == []
    assert {r["order"] for r in rows} == {"given", "-"}
    md = (tmp_path / "run" / "results.md").read_text()
    assert "Mean over the 2 targets (given orders)" in md
    assert "direct: k=2 minus k=1" in md and "ts-lid minus ts-uniform at k=2" in md
    mean_rows = md.split("Mean over the 2 targets")[1].splitlines()
    assert any(line.startswith("| 2 | ") and "[" in line for line in mean_rows)
    assert (tmp_path / "run" / "scaling.png").stat().st_size > 5000


def test_paired_difference_is_resolved_only_when_the_interval_excludes_zero():
    rng = np.random.default_rng(1)

    def runs(p_correct, n=200, r=3):
        return [np.stack([rng.random(n) < p_correct, np.ones(n, int), np.ones(n, int)], 1).astype(int) for _ in range(r)]

    same = runs(0.5, r=1) * 3  # identical runs on both sides: the paired resample cancels exactly
    assert mean_difference([(same, same)], 300) == (0.0, 0.0, 0.0)
    d, lo, hi = mean_difference([(runs(0.8), runs(0.4)), (runs(0.7), runs(0.5))], 300)
    assert 0 < lo < d < hi  # two targets, both better: resolved
    d, lo, hi = mean_difference([(runs(0.5), runs(0.5))], 300)
    assert lo < 0 < hi  # no real difference: the interval straddles 0


def test_intervals_are_the_same_in_every_process():
    """The bootstrap seeds come from the cell's key, not from ``hash()`` (salted per process), so a
    rerun of the report prints the same intervals."""
    import os
    import subprocess
    import sys

    code = ("import numpy as np; from nerxl_data.experiments.scaling import summarise; rng = np.random.default_rng(0); "
            "rows = [{'target': 'yor', 'method': 'direct', 'order': f'random-{i}', 'k': 1, 'n_pred': 1, "
            "'counts': np.stack([rng.integers(0, 2, 40), np.ones(40, int), np.ones(40, int)], 1).tolist()} for i in range(3)]; "
            "print(summarise(rows, 200))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outs) == 1 and "yor" in outs.pop()


# --- the cached-feature recipe (the CPU recipe) ---------------------------------------------------

def _cached(tiny, out, data_dir, **kw):
    return _cfg(tiny, out, data_dir, **{"recipe": "cached", "cached_layer": 1, "train_layers": 1, "learning_rate": 3e-3,
                                        "epochs": 3, "min_steps": 30, "budget_sentences": 40,
                                        "methods": ["direct", "direct-budget", "ts-uniform", "ts-agreement", "projection",
                                                    "in-language"], "in_language_whole": True, **kw})


@pytest.fixture(scope="module")
def cached_run(tiny, tmp_path_factory, data_dir, run):
    import shutil

    _, _, first = run
    out = tmp_path_factory.mktemp("cached") / "run"
    out.mkdir()
    shutil.copytree(first / "silver", out / "silver")  # the builder's silver configs: built once above
    exp = Experiment(_cached(tiny, out, data_dir))
    return exp, exp.run(), out


def test_cached_recipe_runs_every_method_over_two_seeds(cached_run, data_dir):
    from nerxl_data.train.data import load_source

    exp, rows, out = cached_run
    methods = {r["method"] for r in rows}
    assert methods == {"direct", "direct-budget", "ts-uniform", "ts-agreement", "projection", "in-language"}
    assert {r["seed"] for r in rows} == {0, 1}
    features = json.loads((out / "features.json").read_text())
    assert features["computed"] > 0  # every sentence went through the frozen layers once, up front
    # in-language on the whole gold train split, not capped like a source (32)
    whole = len(load_source("masakhaner2:yor", data_dir=data_dir)["train"])
    assert {r["n_train"] for r in rows if r["method"] == "in-language" and r["target"] == "yor"} == {whole}
    # the fixed budget: k sources share 40 sentences (20 each at k=2; at k=1 the cap of 32 is the smaller)
    b2 = next(r for r in rows if r["method"] == "direct-budget" and r["k"] == 2)
    assert b2["n_train"] == 40
    # the recipe learns: in-language models predict entities (a random tiny encoder transfers nothing across languages)
    assert all(r["n_pred"] > 0 for r in rows if r["method"] == "in-language")
    md = (out / "results.md").read_text()
    assert "cached features: encoder layers 1-1 frozen" in md and "whole gold train split" in md
    assert "fixed-budget direct: k=2 minus k=1" in md
    headers = [line.split("|")[1:-1] for line in md.splitlines() if line.startswith("| k |")]
    assert headers and all(len(h) == len(set(h)) for h in headers)  # each method one column (direct-budget was twice)


def test_cached_resume_reencodes_nothing_and_retrains_nothing(cached_run, tiny, data_dir):
    exp, rows, out = cached_run
    again = Experiment(_cached(tiny, out, data_dir))
    assert [r["f1"] for r in again.run()] == [r["f1"] for r in rows]
    assert again.trained == [] and json.loads((out / "features.json").read_text())["computed"] == 0


def test_options_that_change_a_model_are_refused_on_resume(cached_run, tiny, data_dir):
    _, _, out = cached_run
    for change in ({"max_silver": 8}, {"cached_layer": 2}, {"recipe": "finetune"}, {"head_hidden": 16}):
        with pytest.raises(ConfigError, match="other options"):
            Experiment(_cached(tiny, out, data_dir, **change)).run()


def test_budget_minutes_keeps_what_the_user_set(tiny, tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("NERXL_DATA_DIR", str(data_dir))
    r = CliRunner().invoke(cli, ["experiment", "scaling", "--targets", "yor", "--sources", "en,swa", "--model", str(tiny),
                                 "--out", str(tmp_path / "p"), "--plan-only", "--budget-minutes", "0.01", "--methods", "direct",
                                 "--max-sentences", "500", "--min-steps", "60"])
    assert r.exit_code == 0, r.output
    assert "train 500" in r.output  # the user's cap survives the budget
    assert "max_sentences" not in r.output.split("set")[1].split("(")[0] if "--budget-minutes 0.01 set" in r.output else True
    assert "over the budget" in r.output


def test_the_plot_is_a_grid(cached_run):
    from PIL import Image

    _, _, out = cached_run
    w, h = Image.open(out / "scaling.png").size
    assert w < 4.5 * 3.8 * 110 and h > 300  # 3 panels in one row, not a strip of 8


def test_the_report_warns_before_tables_of_weak_runs(run, tiny, data_dir):
    """One seed, models predicting (almost) no entity, an in-language row below direct: said first."""
    from nerxl_data.experiments.scaling.report import warnings_for

    exp, rows, _ = run
    one = Experiment(_cfg(tiny, exp.out, data_dir, seeds=1))
    seed0 = [r for r in rows if r["seed"] == 0]
    weak = [{**r, "n_pred": 0} if r["method"] == "direct" else r for r in seed0]
    inl_low = [{**r, "f1": 0.0} if r["method"] == "in-language" else {**r, "f1": 50.0} for r in seed0]
    text = " ".join(warnings_for(one, weak) + warnings_for(one, inl_low))
    assert "One seed" in text and "Under-trained models" in text and "not a ceiling" in text
    assert not any("One seed" in w for w in warnings_for(exp, rows))  # 2 seeds: no such warning
    # a stopped run: the seeds that finished count, not the ones planned
    seed0 = [r for r in rows if r["seed"] == 0]
    assert any("One seed" in w for w in warnings_for(exp, seed0))
    from nerxl_data.experiments.scaling.report import header

    assert "Seeds: 1 finished of 2 planned (seed 0" in header(exp, seed0) and "Seeds: 2;" in header(exp, rows)
