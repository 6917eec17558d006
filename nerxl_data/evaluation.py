"""Entity-level scores over tag sequences: exact span and type, micro and per type (seqeval).

Scores use seqeval's strict mode with the IOB2 scheme, the usual CoNLL definition: a predicted
entity counts only if its span and its type both equal a gold entity's.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import InputError


def evaluate_tags(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Precision, recall, F1 (in %) and support: ``{"micro": {...}, "per_type": {type: {...}}}``.

    >>> r = evaluate_tags([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "O"]])
    >>> r["micro"]["f1"], r["per_type"]["PER"]["f1"], r["per_type"]["LOC"]["recall"]
    (66.67, 100.0, 0.0)

    Raises:
        InputError: the two lists differ in sentence count or a sentence differs in length
            (naming the sentence).
    """
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    if len(gold) != len(pred):
        raise InputError(f"{len(gold)} gold sentences but {len(pred)} predicted")
    for i, (g, p) in enumerate(zip(gold, pred, strict=False)):
        if len(g) != len(p):
            raise InputError(f"gold has {len(g)} tags but prediction {len(p)}", row=i)
    gold = [list(g) for g in gold]
    pred = [list(p) for p in pred]
    if not any(t != "O" for s in gold + pred for t in s):
        zero = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
        return {"micro": zero, "per_type": {}, "sentences": len(gold)}
    report = classification_report(
        gold, pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0
    )

    def pct(d: dict) -> dict:
        return {
            "precision": round(100 * float(d["precision"]), 2),
            "recall": round(100 * float(d["recall"]), 2),
            "f1": round(100 * float(d["f1-score"]), 2),
            "support": int(d["support"]),
        }

    per_type = {
        k: pct(v) for k, v in sorted(report.items()) if not k.endswith(" avg") and isinstance(v, dict)
    }
    return {"micro": pct(report["micro avg"]), "per_type": per_type, "sentences": len(gold)}


def format_scores(scores: dict) -> str:
    """A plain-text table of :func:`evaluate_tags` output: one row per type, then micro."""
    rows = [("type", "precision", "recall", "f1", "support")]
    for t, s in scores["per_type"].items():
        rows.append((t, f"{s['precision']:.2f}", f"{s['recall']:.2f}", f"{s['f1']:.2f}", str(s["support"])))
    m = scores["micro"]
    rows.append(("micro", f"{m['precision']:.2f}", f"{m['recall']:.2f}", f"{m['f1']:.2f}", str(m["support"])))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join(
        "  ".join(x.ljust(w) if i == 0 else x.rjust(w) for i, (x, w) in enumerate(zip(r, widths, strict=False)))
        for r in rows
    )


def sentence_counts(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]):
    """Per sentence ``[true positives, predicted entities, gold entities]`` under the same strict
    IOB2 entity definition as :func:`evaluate_tags` (their sums give its micro scores): what a
    bootstrap over test sentences resamples. Returns an int array ``[n_sentences, 3]``.

    >>> sentence_counts([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "O"]]).tolist()
    [[1, 1, 2]]
    """
    import numpy as np
    from seqeval.scheme import IOB2, Entities

    if len(gold) != len(pred):
        raise InputError(f"{len(gold)} gold sentences but {len(pred)} predicted")
    g = Entities([list(s) for s in gold], IOB2).entities
    p = Entities([list(s) for s in pred], IOB2).entities
    out = np.zeros((len(gold), 3), dtype=np.int64)
    for i, (gs, ps) in enumerate(zip(g, p, strict=True)):
        gt = {e.to_tuple() for e in gs}
        pt = {e.to_tuple() for e in ps}
        out[i] = (len(gt & pt), len(pt), len(gt))
    return out
