"""Annotation projection: pure functions from (source tokens, entities, target tokens, links)
to target entities, with a reason for every source entity that is not projected.

>>> from nerxl_data.schema import Link, Span
>>> p = project(["Mr", "Prodi"], [Span(1, 2, "PER")], ["Herr", "Prodi"], [Link(0, 0), Link(1, 1)])
>>> p.spans[0].span
Span(start=1, end=2, label='PER')
"""

from .alignment import HeuristicConfig, HullConfig
from .api import METHODS, LinkCombination, Method, get_method, project, project_batch
from .base import DROP_REASONS, Dropped, Projection, ScoredSpan, check_links
from .candidates import SCORERS, CandidatesConfig
from .easyproject import EasyProjectConfig, parse_markers
from .links import combine_links, compose_links, invert_links
from .report import ProjectionReport

__all__ = [
    "DROP_REASONS",
    "METHODS",
    "SCORERS",
    "CandidatesConfig",
    "Dropped",
    "EasyProjectConfig",
    "HeuristicConfig",
    "HullConfig",
    "LinkCombination",
    "Method",
    "Projection",
    "ProjectionReport",
    "ScoredSpan",
    "check_links",
    "combine_links",
    "compose_links",
    "get_method",
    "invert_links",
    "parse_markers",
    "project",
    "project_batch",
]
