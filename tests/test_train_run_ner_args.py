"""`nerxl train` against the transformers example run_ner.py (issue 21): its arguments are a
superset of run_ner.py's (every name accepted, in run_ner.py's spelling too; the ones that cannot
be honoured as given refused with one ``Error:`` line), and its results go through the Trainer's
own ``log_metrics``/``save_metrics``/``save_state`` into the files run_ner.py writes, with scores
that equal the shipped seqeval metric on the saved predictions and ``nerxl evaluate-model``."""

from __future__ import annotations

import dataclasses
import json

import pytest
from click.testing import CliRunner

from nerxl_data.cli import main as cli
from nerxl_data.cli import train as train_module
from nerxl_data.cli.train import train_cmd

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# run_ner.py (transformers examples/pytorch/token-classification, v5.8): its ModelArguments and
# DataTrainingArguments fields, with their defaults
RUN_NER_MODEL_ARGS = {
    "model_name_or_path": dataclasses.MISSING, "config_name": None, "tokenizer_name": None, "cache_dir": None,
    "model_revision": "main", "token": None, "trust_remote_code": False, "ignore_mismatched_sizes": False,
}
RUN_NER_DATA_ARGS = {
    "task_name": "ner", "dataset_name": None, "dataset_config_name": None, "train_file": None,
    "validation_file": None, "test_file": None, "text_column_name": None, "label_column_name": None,
    "overwrite_cache": False, "preprocessing_num_workers": None, "max_seq_length": None,
    "pad_to_max_length": False, "max_train_samples": None, "max_eval_samples": None,
    "max_predict_samples": None, "label_all_tokens": False, "return_entity_level_metrics": False,
}
# the TrainingArguments a run_ner.py command line commonly sets
TRAINING_ARGS = [
    "output_dir", "do_train", "do_eval", "do_predict", "per_device_train_batch_size", "per_device_eval_batch_size",
    "gradient_accumulation_steps", "learning_rate", "weight_decay", "num_train_epochs", "max_steps", "warmup_steps",
    "lr_scheduler_type", "seed", "fp16", "bf16", "report_to", "disable_tqdm", "save_strategy",
]
# defaults nerxl keeps on purpose (the docstring's table says so)
NERXL_DEFAULTS = {"ignore_mismatched_sizes": True, "max_seq_length": 128}
RUN_NER_NAMES = [*RUN_NER_MODEL_ARGS, *RUN_NER_DATA_ARGS, *TRAINING_ARGS]


def _opts() -> set[str]:
    return {o for p in train_cmd.params for o in (*p.opts, *p.secondary_opts)}


def _error_line(r) -> str:
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert [ln for ln in lines if ln.startswith("Error:")] == lines[-1:], r.output  # one Error: line, the last
    return lines[-1]


def test_every_run_ner_argument_is_a_train_option_in_help_and_in_the_mapping():
    opts = _opts()
    help_text = CliRunner().invoke(cli, ["train", "--help"], terminal_width=200).output
    mapping = train_module.__doc__
    for name in RUN_NER_NAMES:
        assert f"--{name}" in opts, f"nerxl train does not take run_ner.py's --{name}"
        assert f"--{name} " in help_text or f"--{name}," in help_text or f"--{name}\n" in help_text, name
        assert f"    {name}" in mapping or f" {name}," in mapping or f", {name}" in mapping, f"{name} not in the mapping"


def test_python_m_dataclasses_hold_every_run_ner_field_with_its_default():
    from nerxl_data.train.run import DataTrainingArguments, ModelArguments

    for cls, fields in ((ModelArguments, RUN_NER_MODEL_ARGS), (DataTrainingArguments, RUN_NER_DATA_ARGS)):
        ours = {f.name: f.default for f in dataclasses.fields(cls)}
        for name, default in fields.items():
            assert name in ours, f"{cls.__name__} lacks run_ner.py's {name}"
            assert ours[name] == NERXL_DEFAULTS.get(name, default), (cls.__name__, name, ours[name])


@pytest.mark.parametrize("args, says", [
    (["--task_name", "pos"], "named entity recognition only"),
    (["--do_train", "false"], "always trains"),
    (["--do_eval", "false", "--do-eval"], "contradicts"),
    (["--max_steps", "3", "--min-steps", "2"], "give one of the two"),
    (["--save_strategy", "steps"], "'steps' is not 'no'"),
    (["--lr_scheduler_type", "sometimes"], "TrainingArguments"),
    (["--text_column_name", "words"], "nerxl's reader"),
    (["--model_name_or_path", "x"], "not both"),
])
def test_what_cannot_be_honoured_is_refused_in_one_line(args, says, tmp_path, data_dir, monkeypatch):
    monkeypatch.setenv("NERXL_DATA_DIR", str(data_dir))
    r = CliRunner().invoke(cli, ["train", str(tmp_path / "no-model"), "--dataset", "masakhaner2:hau",
                                 "--output_dir", str(tmp_path / "out"), *args])
    assert says in _error_line(r)
    assert not (tmp_path / "out").exists()  # refused before anything was written


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, data_dir, tiny_bert_from_words):
    from nerxl_data.train.data import load_source

    text = load_source("masakhaner2:hau", data_dir=data_dir)["train"]["tokens"][:400]
    return tiny_bert_from_words(tmp_path_factory.mktemp("tiny"), text)


N_TRAIN, N_EVAL, N_PREDICT, SEED = 300, 40, 30, 0


@pytest.fixture(scope="module")
def run(tiny, data_dir, tmp_path_factory):
    """One `nerxl train` in run_ner.py's spelling: (output folder, CLI output). The recipe's
    --empty-ratio 0 and 8 epochs at 5e-3 make the tiny model predict entities (F1 about 0.1-0.2),
    so that the score comparisons below are not 0 == 0."""
    out = tmp_path_factory.mktemp("run-ner-args") / "out"
    out.mkdir(parents=True)
    (out / "all_results.json").write_text('{"eval_f1": 2.0, "stale": 1}')  # a previous run's: not merged into
    r = CliRunner(env={"NERXL_DATA_DIR": str(data_dir)}).invoke(cli, [
        "train", "--model_name_or_path", str(tiny), "--dataset_name", "masakhaner2:hau", "--output_dir", str(out),
        "--do_train", "--do_eval", "--do_predict", "--max_train_samples", str(N_TRAIN),
        "--max_eval_samples", str(N_EVAL), "--max_predict_samples", str(N_PREDICT), "--seed", str(SEED),
        "--num_train_epochs", "8", "--learning_rate", "5e-3", "--per_device_train_batch_size", "8", "--empty-ratio", "0",
        "--per_device_eval_batch_size", "16", "--max_seq_length", "128", "--report_to", "none",
        "--disable_tqdm", "true"])
    assert r.exit_code == 0, r.output
    return out, r.output


def test_train_writes_run_ner_results_files(run):
    out, output = run
    train = json.loads((out / "train_results.json").read_text())
    nerxl = json.loads((out / "nerxl_results.json").read_text())
    # run_ner.py's train_samples: the sentences trained on (here those --empty-ratio 0 kept)
    assert 0 < train["train_samples"] == nerxl["train"]["train_samples"] < N_TRAIN
    assert {"train_loss", "train_runtime", "train_samples_per_second", "epoch"} <= set(train)
    ev = json.loads((out / "eval_results.json").read_text())
    assert ev["eval_samples"] == N_EVAL and ev["epoch"] == train["epoch"]
    assert {"eval_precision", "eval_recall", "eval_f1", "eval_accuracy", "eval_runtime"} <= set(ev)
    pred = json.loads((out / "predict_results.json").read_text())
    assert {"predict_precision", "predict_recall", "predict_f1", "predict_accuracy"} <= set(pred)
    assert pred["predict_samples"] == N_PREDICT
    # all_results.json: the three merged by save_metrics, nothing of the previous run's
    assert json.loads((out / "all_results.json").read_text()) == train | ev | pred
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == nerxl["train"]["steps"] == -(-train["train_samples"] // 8) * 8  # 8 epochs
    assert state["log_history"][-1]["train_loss"] == pytest.approx(train["train_loss"])
    assert nerxl["validation"]["overall_f1"] == ev["eval_f1"] and nerxl["test"]["overall_f1"] == pred["predict_f1"]
    # log_metrics printed them, as in run_ner.py
    assert "***** train metrics *****" in output and "***** eval metrics *****" in output
    assert (out / "config.json").exists() and (out / "label_report.json").exists()


def test_predict_scores_are_the_seqeval_metric_on_predictions_txt(run, data_dir):
    from nerxl_data.train.data import cap, load_source
    from nerxl_data.train.trainer import load_seqeval

    out, _ = run
    gold = cap(load_source("masakhaner2:hau", data_dir=data_dir)["test"], N_PREDICT, SEED)
    lines = (out / "predictions.txt").read_text().splitlines()
    preds = [ln.split() for ln in lines]
    assert [len(p) for p in preds] == [len(t) for t in gold["tokens"]]
    entities = sum(t.startswith("B-") for p in preds for t in p)
    assert entities > 0, "the tiny model predicted no entity: the F1 comparison would be 0 == 0"
    scores = load_seqeval().compute(predictions=preds, references=[list(t) for t in gold["ner_tags"]])
    pred = json.loads((out / "predict_results.json").read_text())
    for key in ("precision", "recall", "f1", "accuracy"):  # the project's scorer rounds to 0.01 points
        assert pred[f"predict_{key}"] == pytest.approx(scores[f"overall_{key}"], abs=5.1e-5), key
    assert pred["predict_predicted_entities"] == entities


def test_eval_f1_is_what_evaluate_model_reports(run, data_dir, monkeypatch):
    out, _ = run
    monkeypatch.setenv("NERXL_DATA_DIR", str(data_dir))
    r = CliRunner().invoke(cli, ["evaluate-model", str(out), "--dataset", "masakhaner2:hau", "--split", "validation",
                                 "--max-eval-sentences", str(N_EVAL), "--json"])
    assert r.exit_code == 0, r.output
    scores = json.loads(r.output[r.output.index("{"):])
    ev = json.loads((out / "eval_results.json").read_text())
    assert scores["n_sentences"] == ev["eval_samples"] == N_EVAL
    assert scores["gold_entities"] == ev["eval_gold_entities"] > 0
    for key in ("precision", "recall", "f1", "accuracy"):
        assert ev[f"eval_{key}"] == pytest.approx(scores[f"overall_{key}"]), key


def test_entity_level_metrics_and_exact_max_steps(tiny, data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("NERXL_DATA_DIR", str(data_dir))
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["train", str(tiny), "--dataset", "masakhaner2:hau", "--output-dir", str(out),
                                 "--max-train-sentences", "16", "--max-eval-sentences", "12", "--no-predict",
                                 "--max_steps", "3", "--return_entity_level_metrics", "--label_all_tokens", "true"])
    assert r.exit_code == 0, r.output
    ev = json.loads((out / "eval_results.json").read_text())
    assert "eval_overall_f1" in ev and "eval_f1" not in ev
    nerxl = json.loads((out / "nerxl_results.json").read_text())
    types = {k: v for k, v in nerxl["validation"].items() if isinstance(v, dict)}
    assert types and all(ev[f"eval_{t}_number"] == v["number"] for t, v in types.items())
    assert json.loads((out / "trainer_state.json").read_text())["global_step"] == 3  # exactly --max_steps
    assert not (out / "predict_results.json").exists() and not (out / "predictions.txt").exists()


def test_a_head_of_another_size_is_refused_without_ignore_mismatched_sizes(data_dir, tmp_path, monkeypatch,
                                                                             tiny_bert_from_words):
    from nerxl_data.train.data import load_source

    text = load_source("masakhaner2:hau", data_dir=data_dir)["train"]["tokens"][:100]
    tagger = tiny_bert_from_words(tmp_path / "tagger", text, labels=["O", "B-PER", "I-PER"])  # 3 labels, not 9
    monkeypatch.setenv("NERXL_DATA_DIR", str(data_dir))
    args = ["train", str(tagger), "--dataset", "masakhaner2:hau", "--max-train-sentences", "8",
            "--max-eval-sentences", "8", "--max_steps", "1", "--no-predict"]
    r = CliRunner().invoke(cli, [*args, "--output-dir", str(tmp_path / "a"), "--ignore_mismatched_sizes", "false"])
    assert "do not fit the 9 labels here" in _error_line(r)
    r = CliRunner().invoke(cli, [*args, "--output-dir", str(tmp_path / "b")])  # nerxl's default: re-initialised
    assert r.exit_code == 0, r.output
    assert len(json.loads((tmp_path / "b" / "config.json").read_text())["id2label"]) == 9


def test_a_split_the_data_lacks_is_skipped_by_default_and_an_error_when_asked_for(tiny, data_dir, tmp_path):
    """A training file alone: by default nothing to score is said and the run goes on; an
    explicit --do-eval / --do_predict true on data without that split fails before training."""
    from nerxl_data.corpora.conll import write_conll
    from nerxl_data.train.data import load_source

    train = load_source("masakhaner2:hau", data_dir=data_dir)["train"].select(range(12))  # tags as strings
    path = tmp_path / "train.conll"
    write_conll([{"tokens": r["tokens"], "ner_tags": r["ner_tags"]} for r in train], path)
    r = CliRunner().invoke(cli, ["train", str(tiny), "--train-file", str(path), "--max_steps", "1",
                                 "--output-dir", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output
    assert "Warning: no validation split in the data: not scored" in r.output
    assert "Warning: no test split in the data: not scored" in r.output
    assert (tmp_path / "a" / "train_results.json").exists() and not (tmp_path / "a" / "eval_results.json").exists()
    for flag in (["--do-eval"], ["--do_predict", "true"]):
        r = CliRunner().invoke(cli, ["train", str(tiny), "--train-file", str(path), "--max_steps", "1", *flag,
                                     "--output-dir", str(tmp_path / "b")])
        assert "split to evaluate on (sources: the given files)" in _error_line(r)
        assert not (tmp_path / "b" / "model.safetensors").exists()
