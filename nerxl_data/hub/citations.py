"""BibTeX of the corpora and methods a silver config derives from, for the card's citation block.

Each entry lives with what it cites: ``CorpusInfo.bibtex`` in the corpus registry
(``nerxl_data.corpora``) and ``Method.bibtex`` in the projection methods' registry
(``nerxl_data.project.METHODS``); a source or method without one is cited by its short
citation line only.
"""

from __future__ import annotations

from collections.abc import Iterable


def bibtex(sources: Iterable[str], methods: Iterable[str]) -> list[str]:
    """The BibTeX entries of ``sources`` (corpus names) and ``methods`` (projection method
    names, e.g. ``candidates-ngram``), each once, in that order; names the registries do not
    know (a conll-generic file) have none.

    >>> [b.split(",")[0] for b in bibtex(["lafand", "masakhaner2", "europarl-ner"], ["candidates-ngram"])]
    ['@inproceedings{adelani-etal-2022-thousand', '@inproceedings{adelani-etal-2022-masakhaner', '@inproceedings{politov-etal-2025-revisiting']
    """
    from ..corpora.registry import CORPORA
    from ..project import METHODS

    out: list[str] = []
    entries = [*(CORPORA[s].bibtex for s in sources if s in CORPORA), *(METHODS[m].bibtex for m in methods if m in METHODS)]
    for entry in entries:
        if entry and entry not in out:
            out.append(entry)
    return out
