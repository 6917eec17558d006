"""Write builds in the Hub layout, and publish them to a local folder or to the Hub.

Layout of a build or repository::

    README.md                                   card; ``configs:`` lists every config
    de.heuristic-e5small/nerxl_build.json       ConfigInfo (method, sources, statistics)
    de.heuristic-e5small/train-00000-of-00001.parquet

Publishing adds or replaces whole config folders and re-renders the README from every config's
``nerxl_build.json``; other configs' files are never touched. On the Hub this is one commit with
the new config's files and the README; files that did not change are skipped by the client, so
re-publishing the same build makes no commit at all.

Safety: config and split names (also those read from ``nerxl_build.json``) must be plain names
(:func:`nerxl_data.paths.check_name`) and every path is checked to stay inside its folder
(:func:`~nerxl_data.paths.safe_join`); a config folder is written next to its destination and
swapped in whole (the old one stays until the new one is complete); ``publish_local`` refuses a
non-empty folder that is not a dataset folder unless ``force``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, InputError, NerxlError, excerpt
from ..paths import (
    atomic_folder,
    check_name,
    clean_stale,
    folder_lock,
    safe_join,
    temp_name,
    write_text_atomic,
)
from .card import default_config, foreign_configs, readme_default, render_card
from .features import check_labels, ner_features
from .metadata import BUILD_FILE, ConfigInfo

logger = logging.getLogger(__name__)

PARQUET = "{split}-00000-of-00001.parquet"


def write_config(folder: str | Path, info: ConfigInfo, splits: Mapping) -> Path:
    """Write the splits (``datasets.Dataset`` each) and metadata of one config under ``folder``.

    The config folder is replaced whole, so a rebuild leaves no stale split behind; the new one
    is written next to it and swapped in when complete, so the old config stays loadable until
    then (a killed or failed write leaves the old one, never a half-written one).

    Raises:
        ConfigError: a config or split name that is not a plain name.
        InputError: a token that is empty or holds whitespace or a NUL byte (naming split and row).
    """
    check_name(info.name, "config name")
    out = safe_join(folder, info.name)
    _check_splits(info, splits)
    with atomic_folder(out) as tmp:
        _fill_config(tmp, info, splits)
    return out


def write_config_and_card(folder: str | Path, info: ConfigInfo, splits: Mapping) -> Path:
    """:func:`write_config` and :func:`write_card` as one unit (see :func:`configs_and_card`):
    a failure while writing either (a full disk at the card, say) leaves ``folder`` as it was.
    Hold :func:`~nerxl_data.paths.folder_lock` around it when other processes may write there."""
    _check_splits(info, splits)
    with configs_and_card(folder, [info]) as tmps:
        _fill_config(tmps[info.name], info, splits)
    return Path(folder) / info.name


def _check_splits(info: ConfigInfo, splits: Mapping) -> None:
    for split, ds in splits.items():
        check_name(split, "split name")
        check_token_column(ds["tokens"] if "tokens" in ds.column_names else [], f"{info.name} [{split}]")


def _fill_config(tmp: Path, info: ConfigInfo, splits: Mapping) -> None:
    """Write the splits and ``nerxl_build.json`` of ``info`` into the (temporary) folder ``tmp``;
    sets ``info.fingerprint``."""
    features = ner_features(info.label_names)
    digest = hashlib.sha256()
    for split, ds in splits.items():
        path = tmp / PARQUET.format(split=split)
        ds.cast(features).to_parquet(str(path))
        data = path.read_bytes()
        digest.update(data)
        if split in info.splits:  # the card's dataset_info: the Arrow size of the file as datasets reads it
            info.splits[split].num_bytes = parquet_nbytes(data)
    info.fingerprint = digest.hexdigest()[:16]
    info.write(tmp)


@contextlib.contextmanager
def configs_and_card(folder: str | Path, infos: Sequence[ConfigInfo], repo_id: str | None = None,
                     default: str | None = None, previous: str | None = None) -> Iterator[dict[str, Path]]:
    """Write config folders and the card of ``folder`` as one unit.

    Yields ``{config name: empty temporary folder}`` for the caller to fill. Then the card is
    rendered with ``infos`` (as they are by then) and written to a temporary file; only when
    both are complete are the config folders swapped in (each by :func:`atomic_folder`) and the
    card renamed over ``README.md``. A failure before that (a full disk while writing a parquet
    file or the card) leaves the folder as it was: no config on disk that the card does not
    list, the old version of a rebuilt config whole. What is left is renames, in that order (a
    kill between them leaves a config the next card lists, never a card naming a missing one).

    Raises:
        OSError: naming the file or folder being written.
    """
    folder = Path(folder)
    card = folder / "README.md"
    if card.is_dir():
        raise InputError("is a directory, not the dataset card; remove it", source=str(card))
    clean_stale(card)
    card_tmp = temp_name(card)
    where = folder
    try:
        with contextlib.ExitStack() as stack:
            tmps = {}
            for info in infos:
                where = safe_join(folder, check_name(info.name, "config name"))
                tmps[info.name] = stack.enter_context(atomic_folder(where))
            where = folder / infos[0].name if len(infos) == 1 else folder
            yield tmps
            where = card
            text = _card_text(folder, infos, repo_id, default=default, previous=previous)
            with open(card_tmp, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            where = folder
        os.replace(card_tmp, card)
    except OSError as exc:
        if exc.errno is None or exc.filename is not None:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(where)) from None  # name what was written
    finally:
        with contextlib.suppress(OSError):
            card_tmp.unlink()


def parquet_nbytes(data: bytes) -> int:
    """The Arrow size of a parquet file's rows once read (the ``num_bytes`` that ``datasets``
    records for a split it loads from the file: the in-memory table before writing may differ by
    a few bytes of validity bitmaps)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.read_table(pa.BufferReader(data)).nbytes


def check_token_column(rows, where: str) -> None:
    """Every token is a non-empty string without whitespace or NUL (it could not be written to
    CoNLL, or read back as the same token).

    Raises:
        InputError: naming ``where``, the row and the token (a short excerpt).
    """
    from ..corpora._io import bad_token

    for i, tokens in enumerate(rows):
        for token in tokens:
            problem = bad_token(token)
            if problem:
                raise InputError(f"token {excerpt(str(token), 40)} {problem}", source=where, row=i)


def read_configs(folder: str | Path) -> dict[str, ConfigInfo]:
    """The configs of a local build or repository folder, by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder", source=str(folder))
    out = {}
    for p in sorted(folder.glob(f"*/{BUILD_FILE}")):
        if p.parent.name.startswith("."):  # a temporary or old folder of an interrupted write
            continue
        out[p.parent.name] = _checked(ConfigInfo.read(p), p.parent.name, str(p))
    return out


def _checked(info: ConfigInfo, folder: str, source: str) -> ConfigInfo:
    """``info`` (read from ``folder``/nerxl_build.json, local or remote) with its names checked
    like local ones before any is printed, written or used as a path."""
    check_name(info.name, "config name", source=source)
    if info.name != folder:
        raise InputError(f"config name {excerpt(info.name, 60)} differs from its folder "
                         f"{excerpt(folder, 60)}", source=source)
    for split in info.splits:
        check_name(split, "split name", source=source)
    return info


def _remote_config(rfilename: str, repo_id: str) -> str | None:
    """The config folder of a remote ``CONFIG/nerxl_build.json``, checked as a name before any
    download (a remote file named ``../../x/nerxl_build.json`` is refused); None for other files."""
    parts = rfilename.split("/")
    if len(parts) < 2 or parts[-1] != BUILD_FILE:
        return None
    if len(parts) > 2 and not any(p in ("", ".", "..") for p in parts):
        return None  # deeper down: not a config (as */nerxl_build.json locally)
    return check_name("/".join(parts[:-1]), "config folder name", source=repo_id)


def is_dataset_folder(folder: str | Path) -> bool:
    """Whether ``folder`` is missing, empty (but for a build's ``.cache``), or already a nerxl /
    Hub dataset folder: configs with ``nerxl_build.json``, or a README.md whose YAML header is a
    dataset card (it declares ``configs`` or ``dataset_info``, or carries the ``nerxl-data`` tag;
    other front matter, such as a Jekyll page's, is not a card)."""
    folder = Path(folder)
    if not folder.exists():
        return True
    if not folder.is_dir():
        return False
    if not any(p for p in folder.iterdir() if not p.name.startswith(".nerxl") and p.name != ".cache"):
        return True
    if any(folder.glob(f"*/{BUILD_FILE}")):
        return True
    return is_dataset_card(folder / "README.md")


def is_dataset_card(readme: str | Path) -> bool:
    """Whether ``readme`` is a dataset card (see :func:`is_dataset_folder`); False when it is
    missing, unreadable or its header is not YAML."""
    import yaml

    try:
        with open(readme, encoding="utf-8", errors="replace") as f:
            text = f.read(1 << 20)
    except OSError:
        return False
    if not text.startswith("---\n") or "\n---" not in text[3:]:
        return False
    try:
        header = yaml.safe_load(text[4:text.index("\n---", 3)])
    except yaml.YAMLError:
        return False
    if not isinstance(header, dict):
        return False
    tags = header.get("tags")
    return ("configs" in header or "dataset_info" in header
            or (isinstance(tags, list) and "nerxl-data" in tags))


def check_dataset_folder(folder: str | Path, force: bool | None = False) -> None:
    """Refuse to write into ``folder`` when it holds something that is not a dataset (its
    README.md would be replaced by the card), unless ``force`` (None: the command has no
    ``--force``, and the message does not offer it).

    Raises:
        ConfigError: naming the folder and what to do.
    """
    if not force and not is_dataset_folder(folder):
        raise ConfigError("is not empty and is not a dataset folder (no */nerxl_build.json, no "
                          "README.md dataset card); write to a new folder"
                          + (" or pass --force" if force is not None else ""), source=str(folder))


def write_card(folder: str | Path, repo_id: str | None = None, pretty_name: str | None = None,
               default: str | None = None, previous: str | None = None) -> Path:
    """(Re-)render ``README.md`` of a local folder from its configs (``repo_id`` names the repo in
    the card; default: the folder's path, which is what loads it). The default config stays the
    one the README marked so far (else ``previous``, when it is there), unless ``default`` names
    another."""
    folder = Path(folder)
    path = folder / "README.md"
    write_text_atomic(path, _card_text(folder, (), repo_id, pretty_name, default, previous))
    return path


def _card_text(folder: Path, new: Iterable[ConfigInfo] = (), repo_id: str | None = None,
               pretty_name: str | None = None, default: str | None = None, previous: str | None = None) -> str:
    """The card of ``folder``'s configs, with ``new`` ones (not yet swapped in) added or replacing
    theirs."""
    configs = read_configs(folder) if folder.is_dir() else {}
    configs.update({i.name: i for i in new})
    infos = list(configs.values())
    path = folder / "README.md"
    extra = foreign_configs(path, (i.name for i in infos))
    # a local folder loads by its path: datasets.load_dataset("build/europarl", CONFIG)
    card = render_card(infos, repo_id or str(folder), pretty_name, extra, readme_default(path) or previous, default)
    return str(card)


def _select(build: dict[str, ConfigInfo], configs: Iterable[str] | None, where: str) -> list[ConfigInfo]:
    if not build:
        raise InputError(f"no configs (no */{BUILD_FILE}) found", source=where)
    if configs is None:
        return list(build.values())
    from ..errors import unknown_name

    out = []
    for name in configs:
        if name not in build:
            raise unknown_name("config", name, build)
        out.append(build[name])
    return out


def _check_repo_labels(new: list[ConfigInfo], existing: Iterable[ConfigInfo], where: str) -> None:
    existing = list(existing)
    repo_labels = existing[0].label_names if existing else new[0].label_names
    for info in new:
        check_labels(info.name, info.label_names, repo_labels, where)


def _config_files(build_dir: Path, name: str) -> list[Path]:
    """The regular files of config ``name`` (no links, no subfolders: nothing from elsewhere)."""
    folder = safe_join(build_dir, check_name(name, "config name"))
    files = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_symlink() or not p.is_file():
            raise InputError("is a link or a folder; a config folder holds only its own files "
                             "(nothing was published)", source=str(p))
        files.append(p)
    return files


def publish_local(build_dir: str | Path, to: str | Path, configs: Iterable[str] | None = None,
                  repo_id: str | None = None, force: bool = False, default: str | None = None) -> list[str]:
    """Copy configs of ``build_dir`` into the repository folder ``to`` and re-render its card.

    Each config folder is copied next to its destination and swapped in when complete. The
    repository's default config does not move unless ``default`` names one.

    Raises:
        ConfigError: a config's labels differ from those of ``to`` (nothing is copied), or ``to``
            is a non-empty folder that is not a dataset folder and ``force`` is not set.
    """
    build_dir, to = Path(build_dir), Path(to)
    new = _select(read_configs(build_dir), configs, str(build_dir))
    check_dataset_folder(to, force)
    existing = read_configs(to) if to.is_dir() else {}
    _check_repo_labels(new, (i for n, i in existing.items() if n not in {c.name for c in new}), str(to))
    if default is not None:  # an unknown name fails before anything is copied
        default_config([*existing, *(i.name for i in new)], asked=default)
    files = {info.name: _config_files(build_dir, info.name) for info in new}
    to.mkdir(parents=True, exist_ok=True)
    copied = [] if build_dir.resolve() == to.resolve() else new
    with folder_lock(to), configs_and_card(to, copied, repo_id, default=default,  # one unit, one writer
                                           previous=readme_default(build_dir / "README.md")) as tmps:
        for info in copied:
            for p in files[info.name]:
                shutil.copy2(p, tmps[info.name] / p.name)
    return [i.name for i in new]


@dataclass
class PublishResult:
    repo_id: str
    configs: list[str]
    commit: str | None
    changed: bool
    files: list[str] = field(default_factory=list)


def _token(token: str | None) -> str:
    from huggingface_hub import get_token

    token = token or get_token()
    if not token:
        raise ConfigError(
            "no Hugging Face token found: set HF_TOKEN or run `hf auth login` (nothing was uploaded)"
        )
    from ..errors import register_secret

    register_secret(token)  # redacted from every message, whatever its shape
    return token


def publish_hub(build_dir: str | Path, repo_id: str, configs: Iterable[str] | None = None,
                token: str | None = None, private: bool = False,
                endpoint: str | None = None, default: str | None = None,
                force: bool = False) -> PublishResult:
    """Publish configs of ``build_dir`` to the dataset repo ``repo_id`` in one commit.

    The repo's default config (the one ``load_dataset(repo_id)`` loads) does not move when
    another config is published, unless ``default`` names one.

    ``endpoint`` defaults to ``HF_ENDPOINT`` (the public Hub). Checks everything (token, labels
    against the repo's) before uploading anything; the commit
    is made against the revision that was read (``parent_commit``) so a concurrent publish cannot
    be overwritten silently.

    Raises:
        ConfigError: no token, or labels that differ from the repo's.
        NerxlError: the Hub refused a request (the message never contains the token).
    """
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    build_dir = Path(build_dir)
    check_repo_id(repo_id)
    new = _select(read_configs(build_dir), configs, str(build_dir))
    files = {cfg.name: _config_files(build_dir, cfg.name) for cfg in new}
    token = _token(token)
    from ..hubio import apply_hub_timeout

    apply_hub_timeout()
    api = HfApi(endpoint=endpoint, token=token)
    names = {i.name for i in new}
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        info = api.dataset_info(repo_id)
        remote_files = [s.rfilename for s in info.siblings or []]
        theirs = [f for f in remote_files if f not in (".gitattributes", "README.md")]
        if theirs and not force and not any(_remote_config(f, repo_id) for f in remote_files):
            raise ConfigError("holds files but no nerxl config (*/nerxl_build.json): publishing would "
                              "replace its README.md and change what load_dataset() returns; publish "
                              "to a new repo or pass --force (nothing was uploaded)", source=repo_id)
        others = {}
        with tempfile.TemporaryDirectory() as tmp:
            for f in remote_files:
                config = _remote_config(f, repo_id)
                if config is not None and config not in names:
                    path = api.hf_hub_download(repo_id, f, repo_type="dataset", revision=info.sha,
                                               local_dir=tmp)
                    others[config] = _checked(ConfigInfo.read(path), config, f"{repo_id}/{f}")
            readme = (api.hf_hub_download(repo_id, "README.md", repo_type="dataset", revision=info.sha,
                                          local_dir=tmp) if "README.md" in remote_files else None)
            extra = foreign_configs(readme, [*others, *names])
            previous = readme_default(readme) or readme_default(build_dir / "README.md")
        _check_repo_labels(new, others.values(), repo_id)
        card = render_card([*others.values(), *new], repo_id, extra_configs=extra, previous_default=previous,
                           default=default)
        ops: list = [CommitOperationAdd("README.md", str(card).encode("utf-8"))]
        local_files = []
        for cfg in new:
            for p in files[cfg.name]:
                local_files.append(f"{cfg.name}/{p.name}")
                ops.append(CommitOperationAdd(f"{cfg.name}/{p.name}", str(p)))
        stale = [f for f in remote_files if f.split("/", 1)[0] in names and f not in local_files]
        ops += [CommitOperationDelete(f) for f in stale]
        commit = api.create_commit(
            repo_id, ops, repo_type="dataset", parent_commit=info.sha,
            commit_message=f"nerxl publish {', '.join(sorted(names))}",
        )
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise NerxlError(f"the Hub refused the request (HTTP {status}): {exc.server_message or exc}",
                         source=repo_id) from None
    changed = commit.oid != info.sha
    return PublishResult(repo_id, sorted(names), commit.oid, changed, ["README.md", *local_files])


def check_repo_id(repo_id: str) -> str:
    """``repo_id`` if it is a valid Hub id (``ORG/NAME``), else a :class:`ConfigError`."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise ConfigError(f"invalid Hub repo id {excerpt(str(repo_id), 60)}: use ORG/NAME (letters, "
                          "digits, '-', '_', '.')") from None
    return repo_id


def list_configs(target: str | Path, token: str | None = None,
                 endpoint: str | None = None) -> dict[str, ConfigInfo]:
    """Configs (with statistics) of a local folder or of a Hub dataset repo ``ORG/NAME``.

    Raises:
        InputError: a local path that does not exist.
        HubUnreachableError: a repo id while the Hub cannot be reached (in about a second).
    """
    if Path(target).is_dir():
        return read_configs(target)
    if str(target).startswith((".", "/", "~")) or Path(target).exists():
        raise InputError("no such folder", source=str(target))
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    from ..hubio import apply_hub_timeout, hub_reachable, offline

    check_repo_id(str(target))
    apply_hub_timeout()
    if endpoint is None and not hub_reachable():
        from ..errors import HubUnreachableError

        state = "offline mode is set (HF_HUB_OFFLINE)" if offline() else "the Hub is unreachable"
        raise HubUnreachableError(f"{state}: pass a local folder (nerxl list DIR)", source=str(target))
    api = HfApi(endpoint=endpoint, token=token)
    try:
        info = api.dataset_info(str(target))
        out = {}
        with tempfile.TemporaryDirectory() as tmp:
            for s in sorted(info.siblings or [], key=lambda s: s.rfilename):
                config = _remote_config(s.rfilename, str(target))
                if config is not None:
                    path = api.hf_hub_download(str(target), s.rfilename, repo_type="dataset",
                                               revision=info.sha, local_dir=tmp)
                    out[config] = _checked(ConfigInfo.read(path), config, f"{target}/{s.rfilename}")
    except HfHubHTTPError as exc:
        raise NerxlError(f"cannot read {target} from the Hub: {exc.server_message or exc}") from None
    return out
