"""Hub-facing side of the toolkit: dataset features, build metadata, cards, publishing, listing.

A *build* is a folder in the Hub layout: one folder per config (``de.heuristic-e5small``) holding
``{split}-00000-of-00001.parquet`` files and ``nerxl_build.json`` (method, parameters, sources,
statistics), plus a ``README.md`` card rendered from all the configs' metadata. The same folder is
what ``nerxl publish`` uploads and what ``datasets.load_dataset(DIR, CONFIG)`` reads.
"""

from .features import PROVENANCE_COLUMNS, ner_features
from .metadata import ConfigInfo, SourceInfo, SplitStats

__all__ = ["PROVENANCE_COLUMNS", "ConfigInfo", "SourceInfo", "SplitStats", "ner_features"]
