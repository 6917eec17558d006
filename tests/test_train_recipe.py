"""The training recipe (nerxl_data.train.recipe) and its flags on `nerxl train` and `python -m
nerxl_data.train`: sentences kept, steps, layers, and the one-line warning when a model predicts
(almost) no entity (issue 22, item 1)."""

from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner

from nerxl_data.cli import main as cli
from nerxl_data.errors import ConfigError
from nerxl_data.train.recipe import FitRecipe, prediction_warning

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_recipe_steps_floor_and_cap():
    assert FitRecipe().steps(100, 2, 16) == 13  # ceil(200 / 16)
    assert FitRecipe(min_steps=60).steps(100, 2, 16) == 60
    assert FitRecipe(min_steps=60, max_steps=40).steps(100, 2, 16) == 40  # the cap wins
    assert FitRecipe(max_steps=5).steps(1000, 3, 16) == 5
    assert FitRecipe().steps(0, 3, 16) == 1
    assert not FitRecipe().sets_steps and FitRecipe(min_steps=1).sets_steps and FitRecipe(max_steps=9).sets_steps


def test_recipe_select_reuses_the_experiments_rule():
    from nerxl_data.train.distill import select_sentences

    has = [True, False, False, True, False, False, False, True]
    assert FitRecipe().select(has, 0) == list(range(8))
    assert FitRecipe(empty_ratio=0).select(has, 0) == [0, 3, 7]
    assert FitRecipe(empty_ratio=1).select(has, 3) == select_sentences(has, 1, 3)
    assert len(FitRecipe(empty_ratio=1).select(has, 3)) == 6


@pytest.mark.parametrize("kwargs, match", [({"min_steps": -1}, "min_steps"), ({"max_steps": 0}, "max_steps"),
                                           ({"num_layers": 0}, "num_layers"), ({"empty_ratio": -0.5}, "empty_ratio")])
def test_recipe_checks_its_numbers(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        FitRecipe(**kwargs)


def test_prediction_warning_threshold():
    assert "predicts no entity on test (gold has 50)" in prediction_warning(0, 50, "test")
    assert "only 4 entities" in prediction_warning(4, 50, "test")
    assert prediction_warning(5, 50, "test") is None
    assert prediction_warning(0, 0, "test") is None  # nothing to predict
    assert "--min-steps 60" in prediction_warning(0, 50, "test")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, data_dir, tiny_bert_from_words):
    from nerxl_data.train.data import load_source

    text = load_source("masakhaner2:hau", data_dir=data_dir)["train"]["tokens"][:300]
    return tiny_bert_from_words(tmp_path_factory.mktemp("tiny"), text)


def _predicts_only_o(monkeypatch):
    """A model that learned nothing, made deterministic: every word tagged O."""
    monkeypatch.setattr("nerxl_data.train.trainer.predict_tags",
                        lambda model, tokenizer, sentences, **kw: ([["O"] * len(s) for s in sentences], 0))


def test_cli_train_recipe_flags_and_one_warning(tiny, tmp_path, data_dir, monkeypatch, caplog):
    monkeypatch.setenv("NERXL_DATA_DIR", str(data_dir))
    _predicts_only_o(monkeypatch)
    out = tmp_path / "cli"
    with caplog.at_level(logging.INFO):
        r = CliRunner().invoke(cli, ["train", str(tiny), "--dataset", "masakhaner2:hau", "--max-train-samples", "40",
                                     "--max-eval-samples", "24", "--output-dir", str(out), "--epochs", "1",
                                     "--empty-ratio", "0", "--min-steps", "5", "--max-steps", "7", "--num-layers", "1",
                                     "--freeze-embeddings", "--no-predict"])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "nerxl_results.json").read_text())
    assert res["train"]["steps"] == 5  # ceil(1 x n / 16) < 5 = --min-steps, under --max-steps
    assert 0 < res["train"]["train_samples"] < 40  # entity-less sentences dropped
    assert json.loads((out / "config.json").read_text())["num_hidden_layers"] == 1
    assert res["validation"]["gold_entities"] > 0 and res["validation"]["predicted_entities"] == 0
    # a model that predicts no entity: one line says so and what to try
    assert res["warnings"] and r.output.count("Warning: the model predicts") == 1
    assert "--num-layers 4" in r.output
    # the label set is printed once (by the command), not also logged as a warning
    assert r.output.count("label set:") == 1
    assert not [rec for rec in caplog.records if rec.levelno >= logging.WARNING and "label set" in rec.getMessage()]


def test_python_m_train_recipe_flags(tiny, tmp_path, data_dir, capsys, monkeypatch):
    from nerxl_data.train.__main__ import main

    _predicts_only_o(monkeypatch)
    out = tmp_path / "run"
    rc = main(["--model_name_or_path", str(tiny), "--dataset_name", "masakhaner2:hau", "--data_dir", str(data_dir),
               "--max_train_samples", "40", "--max_eval_samples", "16", "--output_dir", str(out), "--do_train",
               "--do_eval", "--num_train_epochs", "1", "--report_to", "none", "--save_strategy", "no",
               "--min-steps", "4", "--num-layers", "1", "--empty-ratio", "0"])
    assert rc == 0
    res = json.loads((out / "nerxl_results.json").read_text())
    assert res["train"]["steps"] == 4 and res["train"]["train_samples"] < 40
    err = capsys.readouterr()
    assert err.out.count("label set:") == 1
    assert err.err.count("Warning: the model predicts") == 1 and "--min_steps 60" in err.err
