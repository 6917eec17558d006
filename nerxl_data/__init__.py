"""nerxl-data: silver-labelled NER data for low-resource languages by annotation projection.

Data flows one way: read (:mod:`nerxl_data.corpora`) -> translate (:mod:`nerxl_data.translate`)
-> align (:mod:`nerxl_data.align`) -> project (:mod:`nerxl_data.project`) -> build/publish
(:mod:`nerxl_data.hub`, ``nerxl_data.builders``) -> train/evaluate (:mod:`nerxl_data.train`).
"""

from .errors import NerxlError
from .schema import Link, NerExample, Span, spans_to_tags, tags_to_spans

__all__ = ["Link", "NerExample", "NerxlError", "Span", "spans_to_tags", "tags_to_spans"]
__version__ = "0.1.0"
