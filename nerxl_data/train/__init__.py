"""Training and evaluation: Trainer-based token classification, a local seqeval metric,
teacher-student distillation and the source-scaling experiment.

Heavy imports (torch, transformers) happen inside the functions that need them.
"""

from .data import LabelReport, load_source, map_labels, tokenize_and_align_labels
from .models import resolve_model

__all__ = ["LabelReport", "load_source", "map_labels", "resolve_model", "tokenize_and_align_labels"]
