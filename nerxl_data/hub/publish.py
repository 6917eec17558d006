"""Write builds in the Hub layout, and publish them to a local folder or to the Hub.

Layout of a build or repository::

    README.md                                   card; ``configs:`` lists every config
    de.heuristic-e5small/nerxl_build.json       ConfigInfo (method, sources, statistics)
    de.heuristic-e5small/train-00000-of-00001.parquet

Publishing adds or replaces whole config folders and re-renders the README from every config's
``nerxl_build.json``; other configs' files are never touched. On the Hub this is one commit with
the new config's files and the README; files that did not change are skipped by the client, so
re-publishing the same build makes no commit at all.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, InputError, NerxlError
from .card import foreign_configs, render_card
from .features import check_labels, ner_features
from .metadata import BUILD_FILE, ConfigInfo

logger = logging.getLogger(__name__)

PARQUET = "{split}-00000-of-00001.parquet"


def write_config(folder: str | Path, info: ConfigInfo, splits: Mapping) -> Path:
    """Write the splits (``datasets.Dataset`` each) and metadata of one config under ``folder``.

    The config folder is replaced whole, so a rebuild leaves no stale split behind.
    """
    out = Path(folder) / info.name
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    features = ner_features(info.label_names)
    digest = hashlib.sha256()
    for split, ds in splits.items():
        path = out / PARQUET.format(split=split)
        ds.cast(features).to_parquet(str(path))
        digest.update(path.read_bytes())
    info.fingerprint = digest.hexdigest()[:16]
    info.write(out)
    return out


def read_configs(folder: str | Path) -> dict[str, ConfigInfo]:
    """The configs of a local build or repository folder, by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder", source=str(folder))
    return {p.parent.name: ConfigInfo.read(p) for p in sorted(folder.glob(f"*/{BUILD_FILE}"))}


def write_card(folder: str | Path, repo_id: str | None = None, pretty_name: str | None = None) -> Path:
    """(Re-)render ``README.md`` of a local folder from its configs (``repo_id`` names the repo in
    the card; default: the folder's path, which is what loads it)."""
    folder = Path(folder)
    infos = list(read_configs(folder).values())
    path = folder / "README.md"
    extra = foreign_configs(path, (i.name for i in infos))
    # a local folder loads by its path: datasets.load_dataset("build/europarl", CONFIG)
    card = render_card(infos, repo_id or str(folder), pretty_name, extra)
    path.write_text(str(card), encoding="utf-8")
    return path


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


def publish_local(build_dir: str | Path, to: str | Path, configs: Iterable[str] | None = None,
                  repo_id: str | None = None) -> list[str]:
    """Copy configs of ``build_dir`` into the repository folder ``to`` and re-render its card.

    Raises:
        ConfigError: a config's labels differ from those of ``to`` (nothing is copied).
    """
    build_dir, to = Path(build_dir), Path(to)
    new = _select(read_configs(build_dir), configs, str(build_dir))
    existing = read_configs(to) if to.is_dir() else {}
    _check_repo_labels(new, (i for n, i in existing.items() if n not in {c.name for c in new}), str(to))
    to.mkdir(parents=True, exist_ok=True)
    for info in new:
        if build_dir.resolve() == to.resolve():
            continue
        dst = to / info.name
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(build_dir / info.name, dst)
    write_card(to, repo_id)
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
    return token


def publish_hub(build_dir: str | Path, repo_id: str, configs: Iterable[str] | None = None,
                token: str | None = None, private: bool = False,
                endpoint: str | None = None) -> PublishResult:
    """Publish configs of ``build_dir`` to the dataset repo ``repo_id`` in one commit.

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
    new = _select(read_configs(build_dir), configs, str(build_dir))
    token = _token(token)
    api = HfApi(endpoint=endpoint, token=token)
    names = {i.name for i in new}
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        info = api.dataset_info(repo_id)
        remote_files = [s.rfilename for s in info.siblings or []]
        others = {}
        with tempfile.TemporaryDirectory() as tmp:
            for f in remote_files:
                config = f.split("/", 1)[0]
                if f.endswith("/" + BUILD_FILE) and config not in names:
                    path = api.hf_hub_download(repo_id, f, repo_type="dataset", revision=info.sha,
                                               local_dir=tmp)
                    others[config] = ConfigInfo.read(path)
            readme = (api.hf_hub_download(repo_id, "README.md", repo_type="dataset", revision=info.sha,
                                          local_dir=tmp) if "README.md" in remote_files else None)
            extra = foreign_configs(readme, [*others, *names])
        _check_repo_labels(new, others.values(), repo_id)
        card = render_card([*others.values(), *new], repo_id, extra_configs=extra)
        ops: list = [CommitOperationAdd("README.md", str(card).encode("utf-8"))]
        local_files = []
        for cfg in new:
            for p in sorted((build_dir / cfg.name).iterdir()):
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


def list_configs(target: str | Path, token: str | None = None,
                 endpoint: str | None = None) -> dict[str, ConfigInfo]:
    """Configs (with statistics) of a local folder or of a Hub dataset repo ``ORG/NAME``."""
    if Path(target).is_dir():
        return read_configs(target)
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(endpoint=endpoint, token=token)
    try:
        info = api.dataset_info(str(target))
        out = {}
        with tempfile.TemporaryDirectory() as tmp:
            for s in sorted(info.siblings or [], key=lambda s: s.rfilename):
                if s.rfilename.endswith("/" + BUILD_FILE):
                    path = api.hf_hub_download(str(target), s.rfilename, repo_type="dataset",
                                               revision=info.sha, local_dir=tmp)
                    out[s.rfilename.split("/", 1)[0]] = ConfigInfo.read(path)
    except HfHubHTTPError as exc:
        raise NerxlError(f"cannot read {target} from the Hub: {exc.server_message or exc}") from None
    return out
