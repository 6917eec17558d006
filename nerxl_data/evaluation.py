"""Entity-level scores over tag sequences: exact span and type, micro and per type (seqeval).

Scores use seqeval's strict mode with the IOB2 scheme, the usual CoNLL definition: a predicted
entity counts only if its span and its type both equal a gold entity's.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import InputError


def evaluate_tags(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Precision, recall, F1 (in %) and support: ``{"micro": {...}, "per_type": {type: {...}}}``.

    The numbers of ``seqeval.metrics.classification_report(mode="strict", scheme=IOB2,
    zero_division=0)`` (tested against it), counted here from seqeval's own entity reader: the
    ``seqeval.metrics`` module imports scikit-learn, 1.4 s of every build that scores its
    projection (benchmarks/results/build_speed.md), for three divisions.

    >>> r = evaluate_tags([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "O"]])
    >>> r["micro"]["f1"], r["per_type"]["PER"]["f1"], r["per_type"]["LOC"]["recall"]
    (66.67, 100.0, 0.0)

    Raises:
        InputError: the two lists differ in sentence count or a sentence differs in length
            (naming the sentence).
    """
    counts: dict[str, list[int]] = {}  # type -> [true positives, predicted, gold]
    for gs, ps in zip(*_entities(gold, pred), strict=True):
        for k, ents in ((1, ps), (2, gs)):
            for t, _, _ in ents:
                counts.setdefault(t, [0, 0, 0])[k] += 1
        for t, _, _ in gs & ps:
            counts[t][0] += 1
    if not counts:
        zero = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
        return {"micro": zero, "per_type": {}, "sentences": len(gold)}
    micro = [sum(c[k] for c in counts.values()) for k in range(3)]
    per_type = {t: _prf(*counts[t]) for t in sorted(counts)}
    return {"micro": _prf(*micro), "per_type": per_type, "sentences": len(gold)}


def _prf(tp: int, n_pred: int, n_gold: int) -> dict:
    """seqeval's formulas, in its order of operations (so the rounded numbers agree)."""
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(100 * p, 2), "recall": round(100 * r, 2), "f1": round(100 * f, 2),
            "support": n_gold}


def _entities(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]):
    """Per sentence, the sets of ``(type, start, end)`` entities of gold and of pred (strict IOB2,
    seqeval's reader: a stray ``I-`` starts no entity).

    Raises:
        InputError: the sentence counts differ, or a sentence's lengths (naming it).
    """
    from seqeval.scheme import IOB2, Entities

    if len(gold) != len(pred):
        raise InputError(f"{len(gold)} gold sentences but {len(pred)} predicted")
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise InputError(f"gold has {len(g)} tags but prediction {len(p)}", row=i)

    def sets(seqs):
        return [{(e.tag, e.start, e.end) for e in s} for s in Entities([list(x) for x in seqs], IOB2).entities]

    return sets(gold), sets(pred)


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

    g, p = _entities(gold, pred)
    out = np.zeros((len(gold), 3), dtype=np.int64)
    for i, (gt, pt) in enumerate(zip(g, p, strict=True)):
        out[i] = (len(gt & pt), len(pt), len(gt))
    return out
