"""seqeval as a local ``evaluate`` metric module (works offline).

Same inputs and output keys as the Hub's ``seqeval`` metric, so ``run_ner.py``-style
``compute_metrics`` code works unchanged::

    >>> import evaluate
    >>> metric = evaluate.load("nerxl_data/train/metrics/seqeval")  # doctest: +SKIP
    >>> metric.compute(predictions=[["B-PER", "O"]], references=[["B-PER", "O"]])["overall_f1"]  # doctest: +SKIP
    1.0

Output: one dict per entity type (``precision``, ``recall``, ``f1``, ``number``) and
``overall_precision``, ``overall_recall``, ``overall_f1``, ``overall_accuracy``.

One difference from the Hub metric, on purpose: the default is strict IOB2 (``scheme="IOB2",
mode="strict"``), the project's one F1 convention (:func:`nerxl_data.evaluation.evaluate_tags`),
so ``run_ner.py`` with this metric and ``nerxl train`` report the same F1 for one model. Pass
``scheme=None, mode=None`` for the Hub metric's lenient (conlleval-style) default.
"""

import importlib

import datasets
import evaluate
from seqeval.metrics import accuracy_score, classification_report

_CITATION = """\
@misc{seqeval,
  title={{seqeval}: A Python framework for sequence labeling evaluation},
  url={https://github.com/chakki-works/seqeval},
  author={Hiroki Nakayama},
  year={2018},
}
"""

_DESCRIPTION = """\
Entity-level precision, recall and F1 of sequence labelling (CoNLL evaluation), computed by the
seqeval package; token accuracy as ``overall_accuracy``. Local copy of the Hub metric's contract.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of predicted tag sequences (strings, e.g. "B-PER").
    references: list of gold tag sequences.
    suffix: True if the type comes before the prefix ("PER-B").
    scheme: a seqeval.scheme name: IOB2 (default), IOB1, IOE1, IOE2, IOBES, BILOU; or None
        (conlleval-compatible lenient reading, the Hub metric's default).
    mode: "strict" (default: a stray I- starts no entity) or None.
    sample_weight: per-sentence weights.
    zero_division: value when a division by zero happens ("warn", 0 or 1).
Returns:
    per-type dicts {precision, recall, f1, number} and overall_precision, overall_recall,
    overall_f1, overall_accuracy.
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Seqeval(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("string", id="label"), id="sequence"),
                    "references": datasets.Sequence(datasets.Value("string", id="label"), id="sequence"),
                }
            ),
            codebase_urls=["https://github.com/chakki-works/seqeval"],
        )

    def _compute(
        self,
        predictions,
        references,
        suffix: bool = False,
        scheme="IOB2",
        mode="strict",
        sample_weight=None,
        zero_division="warn",
    ):
        if scheme is not None:
            try:
                scheme = getattr(importlib.import_module("seqeval.scheme"), scheme)
            except AttributeError:
                raise ValueError(f"Scheme should be one of [IOB1, IOB2, IOE1, IOE2, IOBES, BILOU], got {scheme}") from None
        report = classification_report(
            y_true=references,
            y_pred=predictions,
            suffix=suffix,
            output_dict=True,
            scheme=scheme,
            mode=mode,
            sample_weight=sample_weight,
            zero_division=zero_division,
        )
        report.pop("macro avg")
        report.pop("weighted avg")
        overall = report.pop("micro avg")
        scores = {
            name: {"precision": s["precision"], "recall": s["recall"], "f1": s["f1-score"], "number": s["support"]}
            for name, s in report.items()
        }
        scores["overall_precision"] = overall["precision"]
        scores["overall_recall"] = overall["recall"]
        scores["overall_f1"] = overall["f1-score"]
        scores["overall_accuracy"] = accuracy_score(y_true=references, y_pred=predictions)
        return scores
