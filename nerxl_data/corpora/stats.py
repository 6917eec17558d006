"""Corpus statistics: sentences, tokens and entities per type."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..schema import NerExample, tags_to_spans


@dataclass
class CorpusStats:
    """Counts over a stream of records (IOB2 string tags)."""

    sentences: int = 0
    tokens: int = 0
    entities: Counter = field(default_factory=Counter)
    empty_sentences: int = 0  # sentences with no entity

    def add(self, example: NerExample) -> None:
        self.sentences += 1
        self.tokens += len(example["tokens"])
        spans = tags_to_spans(example["ner_tags"])
        self.entities.update(s.label for s in spans)
        self.empty_sentences += not spans

    def to_dict(self) -> dict:
        return {
            "sentences": self.sentences,
            "tokens": self.tokens,
            "entities": sum(self.entities.values()),
            "entities_per_type": dict(sorted(self.entities.items())),
            "sentences_without_entities": self.empty_sentences,
        }

    def table(self) -> str:
        """A small aligned text table."""
        rows = [("sentences", self.sentences), ("tokens", self.tokens),
                ("sentences without entities", self.empty_sentences),
                ("entities", sum(self.entities.values()))]
        rows += [(f"  {t}", n) for t, n in sorted(self.entities.items())]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v:>9}" for k, v in rows)


def corpus_stats(examples: Iterable[NerExample]) -> CorpusStats:
    """Count sentences, tokens and entities per type in one pass (streaming).

    >>> s = corpus_stats([{"id": "0", "tokens": ["Ada", "Lovelace"], "ner_tags": ["B-PER", "I-PER"]}])
    >>> s.sentences, s.tokens, dict(s.entities)
    (1, 2, {'PER': 1})
    """
    stats = CorpusStats()
    for ex in examples:
        stats.add(ex)
    return stats
