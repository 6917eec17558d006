"""BibTeX of the corpora and methods a silver config derives from, for the card's citation block.

Keyed by corpus name (as in the registry, ``nerxl_data.corpora``) and by projection method; a
source or method without an entry is cited by its short citation line only.
"""

from __future__ import annotations

from collections.abc import Iterable

CORPUS_BIBTEX: dict[str, str] = {
    "masakhaner2": """@inproceedings{adelani-etal-2022-masakhaner,
  title = "{M}asakha{NER} 2.0: {A}frica-centric Transfer Learning for Named Entity Recognition",
  author = "Adelani, David Ifeoluwa and others",
  booktitle = "Proceedings of the 2022 Conference on Empirical Methods in Natural Language Processing",
  year = "2022",
  publisher = "Association for Computational Linguistics",
  url = "https://aclanthology.org/2022.emnlp-main.298"
}""",
    "lafand": """@inproceedings{adelani-etal-2022-thousand,
  title = "A Few Thousand Translations Go a Long Way! Leveraging Pre-trained Models for {A}frican News Translation",
  author = "Adelani, David and others",
  booktitle = "Proceedings of the 2022 Conference of the North American Chapter of the Association for Computational Linguistics: Human Language Technologies",
  year = "2022",
  pages = "3053--3070",
  publisher = "Association for Computational Linguistics",
  url = "https://aclanthology.org/2022.naacl-main.223",
  doi = "10.18653/v1/2022.naacl-main.223"
}""",
}

_POLITOV = """@inproceedings{politov-etal-2025-revisiting,
  title = "Revisiting Projection-based Data Transfer for Cross-Lingual Named Entity Recognition in Low-Resource Languages",
  author = "Politov, Andrei and Shkalikov, Oleh and J{\\"a}kel, Rene and F{\\"a}rber, Michael",
  booktitle = "Proceedings of the Joint 25th Nordic Conference on Computational Linguistics and 11th Baltic Conference on Human Language Technologies (NoDaLiDa/Baltic-HLT 2025)",
  year = "2025",
  pages = "499--507",
  url = "https://aclanthology.org/2025.nodalida-1.54"
}"""

METHOD_BIBTEX: dict[str, str] = {"candidates-ngram": _POLITOV, "candidates-ner": _POLITOV, "heuristic": _POLITOV}
"""The projection method's paper (``heuristic``: as reimplemented and compared by Politov et al.)."""


def bibtex(sources: Iterable[str], methods: Iterable[str]) -> list[str]:
    """The BibTeX entries of ``sources`` (corpus names) and ``methods`` (projection method
    names, e.g. ``candidates-ngram``), each once, in that order.

    >>> [b.split(",")[0] for b in bibtex(["lafand", "masakhaner2", "europarl-ner"], ["candidates-ngram"])]
    ['@inproceedings{adelani-etal-2022-thousand', '@inproceedings{adelani-etal-2022-masakhaner', '@inproceedings{politov-etal-2025-revisiting']
    """
    out: list[str] = []
    for entry in [*(CORPUS_BIBTEX.get(s) for s in sources), *(METHOD_BIBTEX.get(m) for m in methods)]:
        if entry and entry not in out:
            out.append(entry)
    return out
