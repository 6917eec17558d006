"""The recommended projection recipe, in one place.

The best configuration measured on Europarl-NER en -> de, es, it (``nerxl bench europarl``,
``benchmarks/results/europarl.md``): e5-small itermax links (layer 8), n-gram candidates, greedy
matching with the link and surface scorers weighted 1 and 0.5 (de 93.6, es 92.8, it 90.1, mean
92.1). The build's default method, the benchmark's default setup, ``nerxl project``'s defaults
and the card's choice of a default config all read it from here (none of them from another).
"""

from __future__ import annotations

from types import MappingProxyType

ALIGNER = "simalign-itermax"
MODEL = "e5-small"
LAYER = 8
PROJECTION = "candidates-ngram"
OPTIONS = MappingProxyType({"matching": "greedy", "scorers": ("links", "surface"), "weights": (1.0, 0.5)})
"""The projection options of :data:`PROJECTION` (read-only: copy before changing)."""

DEFAULT_METHOD = "candidates-ngram-e5small-itermax"
"""The ``{method}`` part of the config name of a build with this recipe."""
