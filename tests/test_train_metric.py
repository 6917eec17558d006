"""The local seqeval module: same numbers as seqeval itself on real data; run_ner.py-style use."""

from __future__ import annotations

import numpy as np
import pytest
from seqeval.metrics import accuracy_score, classification_report
from seqeval.scheme import IOB2

from nerxl_data.train.data import load_source
from nerxl_data.train.trainer import SEQEVAL_PATH, load_seqeval, make_compute_metrics, score_tags


def corrupt(tags: list[list[str]]) -> list[list[str]]:
    """Deterministic, realistic errors: every 3rd entity dropped, every 5th retyped, an I- cut."""
    out, n = [], 0
    types = ["PER", "ORG", "LOC", "DATE"]
    for seq in tags:
        seq = list(seq)
        for i, t in enumerate(seq):
            if t.startswith("B-"):
                n += 1
                typ = t[2:]
                j = i + 1
                while j < len(seq) and seq[j] == f"I-{typ}":
                    j += 1
                if n % 3 == 0:
                    seq[i:j] = ["O"] * (j - i)
                elif n % 5 == 0:
                    new = types[(types.index(typ) + 1) % 4]
                    seq[i:j] = [f"B-{new}"] + [f"I-{new}"] * (j - i - 1)
                elif n % 7 == 0 and j - i > 1:
                    seq[j - 1] = "O"
        out.append(seq)
    return out


@pytest.fixture(scope="module")
def yor_dev(data_dir):
    return load_source("masakhaner2:yor", data_dir=data_dir)["validation"]["ner_tags"][:300]


def test_module_matches_seqeval_on_real_data(yor_dev):
    refs = yor_dev
    preds = corrupt(refs)
    assert preds != refs
    # the default is the project's convention, strict IOB2 (what nerxl train reports) ...
    ours = load_seqeval().compute(predictions=preds, references=refs)
    assert ours["overall_f1"] == pytest.approx(score_tags(refs, preds)["overall_f1"], abs=1e-4)  # score_tags rounds to 0.01 F1
    direct = classification_report(refs, preds, output_dict=True, mode="strict", scheme=IOB2)
    # ... and scheme=None, mode=None is the Hub metric's lenient reading
    lenient = load_seqeval().compute(predictions=preds, references=refs, scheme=None, mode=None)
    assert lenient["overall_f1"] == pytest.approx(classification_report(refs, preds, output_dict=True)["micro avg"]["f1-score"])
    assert ours["overall_f1"] == pytest.approx(direct["micro avg"]["f1-score"])
    assert ours["overall_precision"] == pytest.approx(direct["micro avg"]["precision"])
    assert ours["overall_recall"] == pytest.approx(direct["micro avg"]["recall"])
    assert ours["overall_accuracy"] == pytest.approx(accuracy_score(refs, preds))
    assert set(k for k in ours if not k.startswith("overall_")) == {"PER", "ORG", "LOC", "DATE"}
    for typ in ("PER", "ORG", "LOC", "DATE"):
        assert ours[typ]["f1"] == pytest.approx(direct[typ]["f1-score"])
        assert ours[typ]["number"] == direct[typ]["support"]
    assert 0.3 < ours["overall_f1"] < 0.95  # the corruption really costs something


def test_evaluate_load_by_path_and_strict_scheme(yor_dev):
    import evaluate

    metric = evaluate.load(SEQEVAL_PATH)
    refs = yor_dev[:50]
    assert metric.compute(predictions=refs, references=refs)["overall_f1"] == 1.0
    strict = metric.compute(predictions=[["I-PER", "O"]], references=[["B-PER", "O"]])
    assert strict["overall_f1"] == 0.0  # strict IOB2 by default: a stray I- is no entity
    lenient = metric.compute(predictions=[["I-PER", "O"]], references=[["B-PER", "O"]], scheme=None, mode=None)
    assert lenient["overall_f1"] == 1.0
    with pytest.raises(ValueError, match="Scheme"):
        metric.compute(predictions=refs, references=refs, scheme="NOPE")


def test_run_ner_style_compute_metrics(yor_dev):
    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-DATE", "I-DATE"]
    refs = yor_dev[:40]
    preds = corrupt(refs)
    width = max(len(r) for r in refs) + 2
    labels = np.full((len(refs), width), -100)
    logits = np.zeros((len(refs), width, len(names)))
    for i, (r, p) in enumerate(zip(refs, preds, strict=True)):
        for j, (a, b) in enumerate(zip(r, p, strict=True)):
            labels[i, j + 1] = names.index(a)  # position 0 is [CLS]: -100, as run_ner.py labels it
            logits[i, j + 1, names.index(b)] = 5.0
    out = make_compute_metrics(names)((logits, labels))
    assert set(out) == {"precision", "recall", "f1", "accuracy"}
    # The project's one scorer (strict IOB2, nerxl_data.evaluation), argument order (gold, pred).
    assert out["f1"] == pytest.approx(score_tags(refs, preds)["overall_f1"])
    default = load_seqeval().compute(predictions=preds, references=refs)  # as run_ner.py calls it
    assert out["f1"] == pytest.approx(default["overall_f1"], abs=1e-4)
    entity = make_compute_metrics(names, return_entity_level_metrics=True)((logits, labels))
    types = {k.rsplit("_", 1)[0] for k in entity if not k.startswith("overall_")}
    assert types and types <= {"PER", "ORG", "LOC", "DATE"} and "overall_f1" in entity
