"""Entity scores (seqeval's strict IOB2 entities): exact span and type, micro and per type."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nerxl_data.errors import InputError
from nerxl_data.evaluation import evaluate_tags, format_scores, sentence_counts


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


def test_real_gold_with_retyped_entities_scores_what_was_left(data_dir):
    """Every third Italian Europarl entity retyped PER <-> LOC/ORG/MISC: exactly those are wrong,
    counted here by walking the tags (not by a scorer), per type and overall."""
    from collections import Counter

    from nerxl_data.corpora.conll import read_conll

    gold = [ex["ner_tags"] for ex in read_conll(data_dir / "europarl-ner" / "it.conll")]
    swap = {"PER": "LOC", "LOC": "ORG", "ORG": "MISC", "MISC": "PER"}
    pred, n, kept, total = [], 0, Counter(), Counter()
    for sent in gold:
        out = list(sent)
        for i, tag in enumerate(sent):
            if tag.startswith("B-"):
                typ, n = tag[2:], n + 1
                total[typ] += 1
                if n % 3 == 0:
                    j = i + 1
                    while j < len(sent) and sent[j] == f"I-{typ}":
                        j += 1
                    out[i:j] = [f"B-{swap[typ]}"] + [f"I-{swap[typ]}"] * (j - i - 1)
                else:
                    kept[typ] += 1
        pred.append(out)
    r = evaluate_tags(gold, pred)
    assert r["micro"]["support"] == n and n > 500
    assert r["micro"]["precision"] == r["micro"]["recall"] == pytest.approx(100 * sum(kept.values()) / n, abs=0.01)
    for typ in swap:
        assert r["per_type"][typ]["support"] == total[typ]
        assert r["per_type"][typ]["recall"] == pytest.approx(100 * kept[typ] / total[typ], abs=0.01)


def test_length_mismatch_names_the_sentence():
    with pytest.raises(InputError, match="row 1"):
        evaluate_tags([["O"], ["O", "O"]], [["O"], ["O"]])
    with pytest.raises(InputError, match="2 gold sentences but 1"):
        evaluate_tags([["O"], ["O"]], [["O"]])


tag = st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # seqeval's macro average of no types
@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=6).flatmap(
    lambda lens: st.tuples(*[st.tuples(st.lists(tag, min_size=n, max_size=n), st.lists(tag, min_size=n, max_size=n))
                             for n in lens])))
def test_same_numbers_as_seqeval_classification_report(pairs):
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    gold, pred = [list(g) for g, _ in pairs], [list(p) for _, p in pairs]
    r = evaluate_tags(gold, pred)
    if not any(t != "O" for s in gold + pred for t in s):
        assert r["micro"]["f1"] == 0.0 and r["per_type"] == {}
        return
    ref = classification_report(gold, pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)

    def pct(d):
        return {"precision": round(100 * float(d["precision"]), 2), "recall": round(100 * float(d["recall"]), 2),
                "f1": round(100 * float(d["f1-score"]), 2), "support": int(d["support"])}

    assert r["micro"] == pct(ref["micro avg"])
    assert r["per_type"] == {k: pct(v) for k, v in sorted(ref.items()) if not k.endswith(" avg")}
    tp, n_pred, n_gold = sentence_counts(gold, pred).sum(axis=0).tolist()
    assert n_gold == r["micro"]["support"]
    assert round(100 * (tp / n_pred if n_pred else 0.0), 2) == r["micro"]["precision"]
