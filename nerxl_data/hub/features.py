"""The ``datasets.Features`` of a published silver NER dataset.

One label list is shared by every config of a repo, so that ``ner_tags`` ids mean the same in
``de.heuristic-e5small`` and ``yor.heuristic-e5small``; :func:`check_labels` enforces it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ConfigError

PROVENANCE_COLUMNS: tuple[str, ...] = (
    "source_lang",
    "source_tokens",
    "source_ner_tags",
    "alignment",
    "projection_score",
)
"""Columns that say where each silver row came from (``alignment`` is Pharaoh ``i-j`` text)."""

COLUMNS: tuple[str, ...] = ("id", "tokens", "ner_tags", *PROVENANCE_COLUMNS)


def ner_features(label_names: Sequence[str]):
    """Features of a silver NER dataset whose tags (target and source) use ``label_names``.

    >>> ner_features(["O", "B-PER", "I-PER"])["ner_tags"].feature.names
    ['O', 'B-PER', 'I-PER']
    """
    from datasets import ClassLabel, Features, Sequence, Value

    labels = ClassLabel(names=list(label_names))
    return Features(
        {
            "id": Value("string"),
            "tokens": Sequence(Value("string")),
            "ner_tags": Sequence(labels),
            "source_lang": Value("string"),
            "source_tokens": Sequence(Value("string")),
            "source_ner_tags": Sequence(labels),
            "alignment": Value("string"),
            "projection_score": Value("float32"),
        }
    )


def check_labels(config: str, labels: Sequence[str], repo_labels: Sequence[str] | None, repo: str) -> None:
    """Raise unless ``labels`` of ``config`` equal the label list the repo already uses.

    Raises:
        ConfigError: naming the config, the repo and both lists.
    """
    if repo_labels is not None and list(labels) != list(repo_labels):
        raise ConfigError(
            f"config {config!r} uses labels {list(labels)} but {repo} uses {list(repo_labels)}; "
            "one label list must serve every config of a repo (rebuild with the repo's label set "
            "or publish to another repo)"
        )
