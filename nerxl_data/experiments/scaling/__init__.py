"""The source-scaling experiment: target F1 as source languages are added, per transfer method,
over several targets, seeds and source orders, with 95% intervals.

For every target T and k = 1..K (K = the sources other than T), on T's gold test set:

* ``direct``: one model trained on the union of the first k sources of an order, zero-shot on T;
  ``direct-budget``: the same with the k sources sharing ``budget_sentences`` (B // k each), so
  that "more sources" is separated from "more data";
* ``ts-uniform`` / ``ts-similarity`` / ``ts-agreement`` / ``ts-lid``: teacher-student (Wu et al.
  2020): one teacher per source (the k=1 direct model of that source), a student trained on T's
  unlabeled train sentences to match the teachers' combined distributions (uniform; weighted by
  e5 sentence-embedding similarity, by teacher agreement, or by a character n-gram language
  identifier over the source training sentences: :func:`nerxl_data.train.distill.lid_weights`);
* ``projection``: the silver T config the MasakhaNER 2.0 builder publishes (:mod:`.silver`); one
  reference row per target (LAFAND pairs T with its pivot only);
* reference rows: ``in-language`` (T's gold train split) and ``best-single-source`` (the k=1
  source with the best mean F1 on T; picked on T's test, an oracle, shown next to English).

Orders: the given order, ``orders`` seeded random permutations (their mean is the headline), and
a similarity-ranked order, the last two reported apart. Models that do not depend on the target
are trained once and shared across targets and orders.

Recipes (:mod:`.recipes`): ``finetune`` (the Trainer, every kept layer; the GPU recipe) or
``cached`` (frozen lower layers run once per sentence, the layers above and the head trained on
the kept states; the CPU recipe, checked against full fine-tuning in
``benchmarks/results/recipe.md``).

Modules: :mod:`.config` (options), :mod:`.plan` (cells, counts, estimate, budget caps),
:mod:`.store` (model keys and records), :mod:`.recipes` (training), :mod:`.silver` (the builder's
silver sets), :mod:`.run` (the Experiment), :mod:`.stats` (bootstrap intervals, contrasts),
:mod:`.report` (csv, markdown, plot).
"""

from .config import METHODS, RECIPES, TS_METHODS, ExperimentConfig, source_spec
from .plan import estimate_seconds
from .report import write_outputs
from .run import Experiment, pick_caps
from .stats import (
    difference_interval,
    format_interval,
    mean_difference,
    mean_interval,
    mean_of_targets,
    summarise,
)

__all__ = ["METHODS", "RECIPES", "TS_METHODS", "Experiment", "ExperimentConfig", "difference_interval",
           "estimate_seconds", "format_interval", "mean_difference", "mean_interval", "mean_of_targets", "pick_caps",
           "source_spec", "summarise", "write_outputs"]
