"""Dataset cards: typed ``DatasetCardData`` metadata plus the Jinja body in ``cards/`` (installed as ``nerxl_data.cards``)
(package data: it ships in the wheel).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import ConfigError
from .citations import bibtex
from .metadata import ConfigInfo, SourceInfo

TEMPLATE = "dataset_card.md"


def template_path(name: str = TEMPLATE) -> Path:
    """The path of card template ``name``.

    Raises:
        ConfigError: no such template in ``cards/``.
    """
    import nerxl_data.cards as cards  # the top-level cards/ folder, installed as this package

    path = Path(cards.__file__).resolve().parent / name
    if not path.is_file():
        raise ConfigError(f"card template {name!r} not found in {path.parent}")
    return path


def config_entry(info: ConfigInfo, default: bool = False) -> dict:
    """The README ``configs:`` entry of one config: one data_files pattern per split.

    ``description`` says in words what the config is, and ends with the fingerprint of the data
    files: ``datasets`` keys its cache of a local folder by the folder name and the README's
    configs, not by the files' content, so without it two same-named folders (or a rebuild with
    equal statistics) would load stale rows.
    """
    entry = {
        "config_name": info.name,
        "data_files": [{"split": s, "path": f"{info.name}/{s}-*"} for s in info.splits],
    }
    if info.fingerprint:
        kinds = ", ".join(f"{s} {st.kind}" for s, st in info.splits.items())
        entry["description"] = (f"{info.language} NER projected from {info.source_language} ({info.mode}, "
                                f"{info.method}); splits: {kinds}; data fingerprint {info.fingerprint}")
    if default:
        entry["default"] = True
    return entry


def dataset_info(info: ConfigInfo):
    """The card's ``dataset_info`` of one config, as a ``datasets.DatasetInfo``: the features every
    split is written with (:func:`~nerxl_data.hub.features.ner_features`: ``tokens``, ``ner_tags``
    as ClassLabel ids with the label names, and the provenance columns) and per split its rows
    (``num_examples``) and Arrow size (``num_bytes``, as ``datasets`` counts it; 0 when the build
    file predates it). ``datasets.load_dataset`` checks ``num_examples`` against the files.

    >>> from nerxl_data.hub.metadata import SplitStats
    >>> i = dataset_info(ConfigInfo("yo.m", "yo", "en", "translate-train", "m", {}, ["O", "B-PER", "I-PER"], [],
    ...                             {"train": SplitStats(3, num_bytes=120)}))
    >>> i.features["ner_tags"].feature.names, i.splits["train"].num_examples, i.dataset_size
    (['O', 'B-PER', 'I-PER'], 3, 120)
    """
    from datasets import DatasetInfo, SplitDict, SplitInfo

    from .features import ner_features

    splits = SplitDict()
    for name, st in info.splits.items():
        splits.add(SplitInfo(name=name, num_bytes=st.num_bytes, num_examples=st.sentences))
    known = all(st.num_bytes for st in info.splits.values())
    return DatasetInfo(config_name=info.name, features=ner_features(info.label_names), splits=splits,
                       dataset_size=sum(st.num_bytes for st in info.splits.values()) if known else None)


def _dataset_info_yaml(infos: Sequence[ConfigInfo]) -> list[dict]:
    """``dataset_info:`` of the card, one entry per config, written by ``datasets`` itself
    (``DatasetInfosDict.to_dataset_card_data``: the form the Hub and ``load_dataset`` read)."""
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCardData

    holder = DatasetCardData()
    DatasetInfosDict({i.name: dataset_info(i) for i in infos}).to_dataset_card_data(holder)
    entries = holder["dataset_info"]
    entries = entries if isinstance(entries, list) else [entries]
    return [{k: v for k, v in e.items() if v is not None} for e in entries]


def default_config(names: Sequence[str], extra_configs: Sequence[dict] = (), previous: str | None = None,
                   asked: str | None = None) -> str | None:
    """The config ``load_dataset(repo)`` loads without a name: ``asked`` when given; else one a
    foreign entry already marks as default (none of ours, then); else ``previous``, the repo's
    default so far, while it is still there (publishing a second language never moves the
    default); else the first built with the default method, else the first by name.

    >>> default_config(["hau.m", "ewe.m"], previous="hau.m")
    'hau.m'

    Raises:
        ConfigError: ``asked`` is not one of ``names``.
    """
    if asked is not None:
        if asked not in names:
            from ..errors import unknown_name

            raise unknown_name("default config", asked, sorted(names))
        return asked
    if any(c.get("default") for c in extra_configs):
        return None
    if previous in names:
        return previous
    from ..project.recommended import DEFAULT_METHOD

    names = sorted(names)
    return next((n for n in names if n.endswith("." + DEFAULT_METHOD)), names[0] if names else None)


def readme_default(readme: str | Path | None) -> str | None:
    """The config an existing README marks ``default: true`` (None without a README or one)."""
    from huggingface_hub import DatasetCard

    if readme is None or not Path(readme).is_file():
        return None
    configs = DatasetCard.load(readme).data.to_dict().get("configs") or []
    return next((c.get("config_name") for c in configs if isinstance(c, dict) and c.get("default")), None)


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


def unique_sources(infos: Sequence[ConfigInfo]) -> list[SourceInfo]:
    seen: dict[str, SourceInfo] = {}
    for info in infos:
        for s in info.sources:
            seen.setdefault(s.name, s)
    return list(seen.values())


def foreign_configs(readme: str | Path | None, ours: Iterable[str]) -> list[dict]:
    """The ``configs:`` entries of an existing README that nerxl did not build (no
    ``nerxl_build.json``): publishing keeps them, so a repo can mix nerxl configs with others."""
    from huggingface_hub import DatasetCard

    if readme is None or not Path(readme).is_file():
        return []
    ours = set(ours)
    configs = DatasetCard.load(readme).data.to_dict().get("configs") or []
    return [c for c in configs if isinstance(c, dict) and c.get("config_name") not in ours]


def render_card(infos: Sequence[ConfigInfo], repo_id: str, pretty_name: str | None = None,
                extra_configs: Sequence[dict] = (), previous_default: str | None = None,
                default: str | None = None):
    """Render the card of a repository holding ``infos`` (sorted by config name).

    ``extra_configs`` are ``configs:`` entries kept as they are (see :func:`foreign_configs`).
    The default config is ``default`` when given, else as :func:`default_config` picks it
    (``previous_default``: the one the repo's README marked so far, :func:`readme_default`).

    The licence is derived from the sources (one value when they agree, else the list), the
    languages are the targets and sources, and ``configs:`` lists every config's data files.

    Returns:
        huggingface_hub.DatasetCard
    """
    from huggingface_hub import DatasetCard, DatasetCardData

    infos = sorted(infos, key=lambda i: i.name)
    if not infos:
        raise ConfigError("a card needs at least one config")
    sources = unique_sources(infos)
    licenses = sorted({s.license for s in sources})
    others = [s for s in sources if s.license == "other"]
    license_extra = {}
    if others:  # the Hub's card spec: licence "other" names the licence and links to it
        license_extra = {"license_name": "; ".join(f"{s.name}: {s.terms or 'see source'}" for s in others),
                         "license_link": next((s.url for s in others if s.url), "LICENSE")}
    default = default_config([i.name for i in infos], extra_configs, previous_default, default)
    languages = sorted({i.language for i in infos} | {i.source_language for i in infos})
    n = sum(s.sentences for i in infos for s in i.splits.values())
    pretty_name = pretty_name or f"{repo_id.rstrip('/').rsplit('/', 1)[-1]} (silver NER by annotation projection)"
    data = DatasetCardData(
        language=languages,
        license=licenses[0] if len(licenses) == 1 else licenses,
        # silver splits are machine-made; gold validation/test splits are the corpus's human labels
        annotations_creators=sorted({"machine-generated"} | {"expert-generated" for i in infos
                                                             for st in i.splits.values() if st.kind == "gold"}),
        language_creators=["machine-generated" if any(i.mode == "translate-train" and
                                                      not i.parameters.get("translator", "").startswith("none")
                                                      for i in infos) else "found"],
        multilinguality="multilingual" if len(languages) > 1 else "monolingual",
        size_categories=_size_category(n),
        source_datasets=sorted({f"extended|{s.hub_id}" for s in sources if s.hub_id}) or ["original"],
        task_categories=["token-classification"],
        task_ids=["named-entity-recognition"],
        pretty_name=pretty_name,
        tags=["silver-standard", "annotation-projection", "nerxl-data",
              *sorted({i.mode for i in infos})],
        configs=[config_entry(i, i.name == default) for i in infos] + list(extra_configs),
        dataset_info=_dataset_info_yaml(infos),
        **license_extra,
    )
    return DatasetCard.from_template(
        data,
        template_path=str(template_path()),
        pretty_name=pretty_name,
        repo_id=repo_id,
        configs=infos,
        sources=sources,
        label_names=infos[0].label_names,
        bibtex=bibtex([s.name for s in sources], sorted({i.parameters.get("projection", "") for i in infos})),
    )
