"""seqeval-based entity scores: exact span and type, micro and per type."""

from __future__ import annotations

import pytest

from nerxl_data.errors import InputError
from nerxl_data.evaluation import evaluate_tags, format_scores


def test_exact_span_and_type_only():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "O", "O", "B-LOC"], ["B-LOC", "O"]]  # short PER, wrong type ORG->LOC
    r = evaluate_tags(gold, pred)
    # 1 of 3 predicted correct (LOC in sentence 0), 1 of 3 gold found
    assert r["micro"] == {"precision": 33.33, "recall": 33.33, "f1": 33.33, "support": 3}
    assert r["per_type"]["LOC"]["precision"] == 50.0 and r["per_type"]["LOC"]["recall"] == 100.0
    assert r["per_type"]["PER"]["f1"] == 0.0 and r["per_type"]["ORG"]["support"] == 1
    assert "micro" in format_scores(r) and "33.33" in format_scores(r)


def test_strict_mode_does_not_accept_a_stray_i_tag_as_an_entity():
    r = evaluate_tags([["B-PER", "I-PER"]], [["I-PER", "I-PER"]])
    assert r["micro"]["f1"] == 0.0


def test_gold_against_itself_is_perfect_on_real_data(data_dir):
    from nerxl_data.corpora.conll import read_conll

    tags = [ex["ner_tags"] for ex in read_conll(data_dir / "europarl-ner" / "it.conll")]
    r = evaluate_tags(tags, tags)
    assert r["micro"]["f1"] == 100.0
    assert set(r["per_type"]) == {"PER", "LOC", "ORG", "MISC"}
    assert r["micro"]["support"] == sum(t.startswith("B-") for s in tags for t in s)


def test_length_mismatch_names_the_sentence():
    with pytest.raises(InputError, match="row 1"):
        evaluate_tags([["O"], ["O", "O"]], [["O"], ["O"]])
    with pytest.raises(InputError, match="2 gold sentences but 1"):
        evaluate_tags([["O"], ["O"]], [["O"]])
