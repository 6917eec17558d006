"""Known corpora by short name: where they live on the Hub, their splits, labels and terms, and
where their files are under ``NERXL_DATA_DIR`` (see ``../shared/data/README.md``).

Other areas load data through two functions:

>>> corpus_files("europarl-ner", "de", data_dir="/data")  # doctest: +SKIP
[PosixPath('/data/europarl-ner/de.conll')]
>>> sents = load_corpus("europarl-ner:de")  # local files if NERXL_DATA_DIR is set  # doctest: +SKIP

``load_corpus`` reads the local files when ``NERXL_DATA_DIR`` (or ``data_dir``) is set and
otherwise loads the corpus from the Hub by name; it yields NER records (``id``, ``tokens``,
``ner_tags`` as IOB2 strings), or sentence pairs (``id``, ``src``, ``tgt``) for ``lafand``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, InputError, unknown_name
from ..registry import Registry
from ..schema import LABEL_SETS, Policy
from ._io import ReadReport

DATA_DIR_ENV = "NERXL_DATA_DIR"


@dataclass(frozen=True)
class CorpusInfo:
    """One known corpus.

    Attributes:
        name: short name (``europarl-ner``).
        hub_id: Hugging Face dataset id.
        hub_config: config name pattern, ``{lang}`` (``{src}``/``{tgt}`` for pairs) filled in.
        splits: split names, as the Hub names them.
        label_set: key of :data:`~nerxl_data.schema.LABEL_SETS` (None for parallel text).
        licence: licence or terms of use.
        citation: who to cite.
        languages: language codes (for ``lafand``: ``src-tgt`` pairs).
        local_path: file pattern under ``NERXL_DATA_DIR`` with ``{lang}`` and ``{split}``
            (``{src}``/``{tgt}``/``{side}`` for lafand); None when there is no local copy.
        local_splits: Hub split name -> split name in local file names, where they differ.
        local_languages: the languages that have local files (others: Hub only).
        local_dirs: language -> the name its files use locally, where it differs (``en_luo``).
        hub_languages: the languages the Hub dataset has, when not all of ``languages``.
        description: one line.
        bibtex: the BibTeX entry to cite (the dataset card's citation block), where known.
    """

    name: str
    hub_id: str
    hub_config: str | None
    splits: tuple[str, ...]
    label_set: str | None
    licence: str
    citation: str
    languages: tuple[str, ...]
    local_path: str | None = None
    local_splits: tuple[tuple[str, str], ...] = ()
    local_languages: tuple[str, ...] = ()
    local_dirs: tuple[tuple[str, str], ...] = ()
    hub_languages: tuple[str, ...] | None = None
    description: str = ""
    bibtex: str | None = None

    @property
    def types(self) -> tuple[str, ...]:
        return LABEL_SETS[self.label_set] if self.label_set else ()

    @property
    def parallel(self) -> bool:
        return self.label_set is None

    def hub_config_for(self, lang: str) -> str | None:
        if self.hub_config is None:
            return None
        src, _, tgt = lang.partition("-")
        return self.hub_config.format(lang=lang, src=src, tgt=tgt)

    def local_dir(self, lang: str) -> str:
        """The folder name of ``lang``'s files (``en_luo`` for ``en-luo``)."""
        return dict(self.local_dirs).get(lang, lang)

    def is_local(self, lang: str, root: Path | None) -> bool:
        """Whether ``lang`` has local files: a listed local language, or any language whose
        folder exists under ``root`` laid out the same way (e.g. a MasakhaNER 2.0 language
        not in the list)."""
        if lang in self.local_languages:
            return True
        if root is None or self.local_path is None or "/" not in self.local_path or not lang:
            return False
        return (root / self.local_path.split("/")[0] / self.local_dir(lang)).is_dir()

    def local_split(self, split: str) -> str:
        return dict(self.local_splits).get(split, split)

    def check_split(self, split: str) -> str:
        """The Hub name of ``split``, which may also be given by its local name (``dev``).

        Raises:
            ConfigError: an unknown split, listing the known ones.
        """
        hub_names = {local: hub for hub, local in self.local_splits}
        split = hub_names.get(split, split)
        if split not in self.splits:
            raise unknown_name(f"split of {self.name}", split, self.splits)
        return split


_MASAKHANER2_LANGS = (
    "bam bbj ewe fon hau ibo kin lug luo mos nya pcm sna swa tsn twi wol xho yor zul"
).split()
_LAFAND_PAIRS = tuple(
    [f"en-{t}" for t in "amh hau ibo kin luo nya pcm sna swa tsn twi xho yor zul".split()]
    + [f"fr-{t}" for t in "bam bbj ewe fon mos wol".split()]
)
# WikiANN / PAN-X cover 176 / 40 languages; listing a few keeps `corpora show` readable. Any
# language code the Hub config accepts works.
_PANX_LANGS = tuple(
    "af ar bg bn de el en es et eu fa fi fr he hi hu id it ja jv ka kk ko ml mr ms my nl pt ru "
    "sw ta te th tl tr ur vi yo zh".split()
)

_MASAKHANER2_BIBTEX = """@inproceedings{adelani-etal-2022-masakhaner,
  title = "{M}asakha{NER} 2.0: {A}frica-centric Transfer Learning for Named Entity Recognition",
  author = "Adelani, David Ifeoluwa and others",
  booktitle = "Proceedings of the 2022 Conference on Empirical Methods in Natural Language Processing",
  year = "2022",
  publisher = "Association for Computational Linguistics",
  url = "https://aclanthology.org/2022.emnlp-main.298"
}"""

_LAFAND_BIBTEX = """@inproceedings{adelani-etal-2022-thousand,
  title = "A Few Thousand Translations Go a Long Way! Leveraging Pre-trained Models for {A}frican News Translation",
  author = "Adelani, David and others",
  booktitle = "Proceedings of the 2022 Conference of the North American Chapter of the Association for Computational Linguistics: Human Language Technologies",
  year = "2022",
  pages = "3053--3070",
  publisher = "Association for Computational Linguistics",
  url = "https://aclanthology.org/2022.naacl-main.223",
  doi = "10.18653/v1/2022.naacl-main.223"
}"""

CORPORA: Registry[CorpusInfo] = Registry("corpus", {
    c.name: c
    for c in (
        CorpusInfo(
            name="europarl-ner",
            hub_id="ShkalikovOleh/europarl-ner",
            hub_config="{lang}",
            splits=("test",),
            label_set="conll",
            licence="Europarl terms (no copyright restrictions known)",
            citation="Agerri et al., LREC 2018; Koehn, MT Summit 2005",
            languages=("en", "de", "es", "it"),
            local_path="europarl-ner/{lang}.conll",
            local_languages=("en", "de", "es", "it"),
            description="799 parallel Europarl sentences with gold NER on every side",
        ),
        CorpusInfo(
            name="conll2003",
            hub_id="eriktks/conll2003",
            hub_config=None,
            splits=("train", "validation", "test"),
            label_set="conll",
            licence="research use only; do not redistribute (Reuters / Frankfurter Rundschau)",
            citation="Tjong Kim Sang and De Meulder, CoNLL 2003",
            languages=("en", "de"),
            local_path="conll/{lang}/{split}.tsv",
            local_splits=(("validation", "dev"),),
            local_languages=("en", "de"),
            hub_languages=("en",),
            description="CoNLL-2003 newswire NER (the Hub has English only; German is local only)",
        ),
        CorpusInfo(
            name="conll2002",
            hub_id="eriktks/conll2002",
            hub_config="{lang}",
            splits=("train", "validation", "test"),
            label_set="conll",
            licence="research use only",
            citation="Tjong Kim Sang, CoNLL 2002",
            languages=("es", "nl"),
            local_path="conll/{lang}/{split}.tsv",
            local_splits=(("validation", "dev"),),
            local_languages=("es", "nl"),
            description="CoNLL-2002 newswire NER, Spanish and Dutch",
        ),
        CorpusInfo(
            name="masakhaner2",
            hub_id="masakhane/masakhaner2",
            hub_config="{lang}",
            splits=("train", "validation", "test"),
            label_set="masakhaner",
            licence="CC BY-NC 4.0",
            citation="Adelani et al., EMNLP 2022 (MasakhaNER 2.0)",
            languages=tuple(_MASAKHANER2_LANGS),
            local_path="masakhaner2/{lang}/{split}.txt",
            local_splits=(("validation", "dev"),),
            local_languages=tuple(
                "bam bbj ewe fon hau ibo kin luo mos nya pcm sna swa wol yor".split()
            ),
            description="news NER in 20 African languages, PER/ORG/LOC/DATE",
            bibtex=_MASAKHANER2_BIBTEX,
        ),
        CorpusInfo(
            name="xtreme-panx",
            hub_id="google/xtreme",
            hub_config="PAN-X.{lang}",
            splits=("train", "validation", "test"),
            label_set="wikiann",
            licence="ODC-BY / Wikipedia terms (as distributed with XTREME)",
            citation="Pan et al., ACL 2017; Hu et al., ICML 2020 (XTREME)",
            languages=_PANX_LANGS,
            description="WikiANN as split by XTREME (PAN-X), 40 languages",
        ),
        CorpusInfo(
            name="wikiann",
            hub_id="unimelb-nlp/wikiann",
            hub_config="{lang}",
            splits=("train", "validation", "test"),
            label_set="wikiann",
            licence="ODC-BY / Wikipedia terms",
            citation="Pan et al., ACL 2017; Rahimi et al., ACL 2019 (balanced splits)",
            languages=_PANX_LANGS,
            description="silver Wikipedia NER in 176 languages (Rahimi splits), PER/ORG/LOC",
        ),
        CorpusInfo(
            name="lafand",
            hub_id="masakhane/lafand-mt",
            hub_config="{src}-{tgt}",
            splits=("train", "validation", "test"),
            label_set=None,
            licence="CC BY-NC 4.0",
            citation="Adelani et al., NAACL 2022 (MAFAND-MT / LAFAND)",
            languages=_LAFAND_PAIRS,
            local_path="lafand/{lang}/{split}.{side}",
            local_dirs=(("en-luo", "en_luo"),),
            local_splits=(("validation", "dev"),),
            local_languages=tuple(
                [f"en-{t}" for t in "amh hau ibo kin luo nya pcm sna swa yor".split()]
                + [f"fr-{t}" for t in "bam bbj ewe fon mos wol".split()]
            ),
            description="news translations between English/French and African languages",
            bibtex=_LAFAND_BIBTEX,
        ),
    )
})


def get_corpus(name: str) -> CorpusInfo:
    """The registry entry for ``name``.

    >>> get_corpus("masakhaner2").hub_id
    'masakhane/masakhaner2'

    Raises:
        ConfigError: an unknown name, listing the known ones.
    """
    return CORPORA.get(name)


def parse_corpus_ref(ref: str, data_dir: str | Path | None = None) -> tuple[CorpusInfo, str]:
    """Split ``NAME:LANG`` into the corpus and a checked language code.

    >>> info, lang = parse_corpus_ref("europarl-ner:de"); (info.name, lang)
    ('europarl-ner', 'de')

    Raises:
        ConfigError: an unknown corpus, a missing or unknown language.
    """
    name, _, lang = ref.partition(":")
    info = get_corpus(name)
    if not lang:
        raise ConfigError(
            f"corpus {name!r} needs a language: {name}:LANG, LANG one of {', '.join(info.languages)}"
        )
    if (lang not in info.languages and info.local_path and lang not in info.local_languages
            and not info.is_local(lang, data_root(data_dir))):
        raise unknown_name(f"language of {name}", lang, info.languages)
    return info, lang


def data_root(data_dir: str | Path | None = None) -> Path | None:
    """The data folder: ``data_dir`` when given, else ``NERXL_DATA_DIR`` (None when neither)."""
    if data_dir:
        return Path(data_dir)
    value = os.environ.get(DATA_DIR_ENV)
    return Path(value) if value else None


def corpus_files(
    name: str, lang: str, split: str | None = None, *, data_dir: str | Path | None = None
) -> list[Path]:
    """Local files of ``name`` in ``lang`` (one split, or all of them when ``split`` is None).

    For ``lafand`` each split gives two files, source side first. ``data_dir`` defaults to
    ``NERXL_DATA_DIR``.

    Raises:
        ConfigError: no data dir, an unknown split, or a language without local files.
        InputError: an expected file is missing.
    """
    info = get_corpus(name)
    root = data_root(data_dir)
    if root is None:
        raise ConfigError(f"{DATA_DIR_ENV} is not set; point it at the folder holding {name}/")
    if info.local_path is None or not info.is_local(lang, root):
        have = ", ".join(info.local_languages) or "none"
        raise ConfigError(
            f"{name}:{lang} has no local files (local languages: {have}); load it from the Hub"
        )
    if split is not None:
        split = info.check_split(split)
    src, _, tgt = lang.partition("-")
    files: list[Path] = []
    for s in [split] if split else info.splits:
        sides = (src, tgt) if info.parallel else (None,)
        paths = [
            root
            / info.local_path.format(
                lang=info.local_dir(lang), split=info.local_split(s), side=side
            )
            for side in sides
        ]
        missing = [p for p in paths if not p.is_file()]
        if missing and split is not None:
            raise InputError(f"missing file for {name}:{lang} split {s}", source=str(missing[0]))
        if not missing:  # with all splits asked for, use those that exist (en-amh has no train)
            files.extend(paths)
    if not files:
        raise InputError(f"no files for {name}:{lang}", source=str(root / info.local_path.split("/")[0]))
    return files


def load_corpus(
    ref: str,
    split: str | None = None,
    *,
    data_dir: str | Path | None = None,
    policy: Policy = "strict",
    report: ReadReport | None = None,
) -> Iterator[dict]:
    """Stream a known corpus ``NAME:LANG`` (one split, or every split in turn when None).

    Reads local files when ``data_dir`` or ``NERXL_DATA_DIR`` is set and the language has local
    files, else loads from the Hub by name (``datasets.load_dataset``, streaming). NER records
    have IOB2 string tags; ``lafand`` yields sentence pairs (``src`` is the first language of the
    pair). Ids are sentence indices within each file (or Hub split), so they restart per split.

    Raises:
        ConfigError: an unknown corpus, language or split.
        InputError: a bad or missing file (naming it).
    """
    from .conll import read_conll
    from .hf import read_hf_dataset
    from .parallel import read_parallel_text

    info, lang = parse_corpus_ref(ref, data_dir)
    root = data_root(data_dir)
    if split is not None:
        split = info.check_split(split)
    if root is not None and info.is_local(lang, root):
        files = corpus_files(info.name, lang, split, data_dir=root)
        if info.parallel:
            pairs = [files[i : i + 2] for i in range(0, len(files), 2)]
            return itertools.chain.from_iterable(
                read_parallel_text(s, t, report=report) for s, t in pairs
            )
        return itertools.chain.from_iterable(
            read_conll(f, policy=policy, types=info.types, report=report) for f in files
        )
    if info.hub_languages is not None and lang not in info.hub_languages:
        raise ConfigError(
            f"{info.name}:{lang} is not on the Hub ({info.hub_id} has "
            f"{', '.join(info.hub_languages)}); set {DATA_DIR_ENV} to read local files"
        )
    # From the Hub, by name (not exercised offline).
    config = info.hub_config_for(lang)
    splits = [split] if split else list(info.splits)
    if info.parallel:
        return itertools.chain.from_iterable(_hub_pairs(info, config, lang, s) for s in splits)
    return itertools.chain.from_iterable(
        read_hf_dataset(info.hub_id, config, s, policy=policy, types=info.types, report=report)
        for s in splits
    )


def _hub_pairs(info: CorpusInfo, config: str | None, lang: str, split: str) -> Iterator[dict]:
    """LAFAND on the Hub stores ``{"translation": {src: ..., tgt: ...}}`` rows."""
    from .hf import load_hf

    src, _, tgt = lang.partition("-")
    for i, row in enumerate(load_hf(info.hub_id, config, split)):
        pair = row["translation"]
        yield {"id": str(i), "src": pair[src], "tgt": pair[tgt]}
