"""Corpora: readers and writers for the formats NER data comes in, the registry of known
corpora, and statistics.

Every NER reader is a generator of one record type, ``{"id", "tokens", "ner_tags"}`` (IOB2
string tags, or ClassLabel ids when asked), checked with a tag policy: ``strict`` raises an
:class:`~nerxl_data.errors.InputError` naming file and line, ``repair`` fixes the sequence and
counts each repair in a :class:`ReadReport` and a logged warning.
"""

from ._io import ReadReport
from .conll import read_conll, write_conll
from .hf import read_hf_dataset
from .parallel import SentencePair, read_parallel_text
from .registry import CORPORA, CorpusInfo, corpus_files, get_corpus, load_corpus, parse_corpus_ref
from .stats import CorpusStats, corpus_stats
from .tabular import read_jsonl, read_parquet, write_jsonl, write_parquet


def read_path(path, **kwargs):
    """Pick a reader by file suffix: ``.parquet``, ``.jsonl``/``.json``, else CoNLL columns
    (under a compression suffix: ``x.jsonl.gz`` is JSON lines; a parquet or JSON lines file
    under another name is refused by the CoNLL reader, not parsed as columns)."""
    from ._io import format_suffix

    suffix = format_suffix(path)
    if suffix == ".parquet":
        return read_parquet(path, **kwargs)
    if suffix in (".jsonl", ".json"):
        return read_jsonl(path, **kwargs)
    return read_conll(path, **kwargs)


__all__ = [
    "CORPORA", "CorpusInfo", "CorpusStats", "ReadReport", "SentencePair", "corpus_files",
    "corpus_stats", "get_corpus", "load_corpus", "parse_corpus_ref", "read_conll",
    "read_hf_dataset", "read_jsonl", "read_parallel_text", "read_parquet", "read_path",
    "write_conll", "write_jsonl", "write_parquet",
]
