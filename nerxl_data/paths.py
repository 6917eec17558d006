"""Where the toolkit writes: checked names, paths kept inside their root, atomic outputs.

Three rules, in one place:

- a name that becomes a path component (a config name, a language code, a split name) matches
  :data:`NAME_PATTERN` (:func:`check_name`) before any path is built from it;
- a path built from a root and such parts is resolved and must stay inside the root
  (:func:`safe_join`);
- an output file is written to a temporary file in its destination folder and renamed into
  place only when complete (:func:`atomic_write`, :func:`atomic_folder`); the temporary file is
  removed on failure, and a run cleans up what a killed run left behind.

>>> check_name("de.heuristic-e5small", "config name")
'de.heuristic-e5small'
>>> safe_join("/data/build", "de.x", "train.parquet").as_posix()
'/data/build/de.x/train.parquet'
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import ConfigError, InputError

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,199}")
"""Config names, language codes and split names: a letter or digit, then letters, digits,
``.``, ``_``, ``+`` or ``-`` (at most 200 characters). No separators, no ``..``, nothing absolute."""

_TMP_MARK = ".nerxl-tmp-"


def cache_root() -> Path:
    """The user cache folder of every cache the tool keeps when none is named (converted models,
    translations, the benchmark's step cache): ``$NERXL_CACHE``, else ``$XDG_CACHE_HOME/nerxl``,
    else ``~/.cache/nerxl`` (next to the Hub's cache)."""
    root = os.environ.get("NERXL_CACHE")
    if root:
        return Path(root).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "nerxl"


def check_name(name: object, what: str = "name", source: str | None = None) -> str:
    """``name`` if it is a safe path component (:data:`NAME_PATTERN`), else a :class:`ConfigError`.

    >>> check_name("../victim", "config name")
    Traceback (most recent call last):
    ...
    nerxl_data.errors.ConfigError: invalid config name '../victim': use letters, digits and . _ + - (starting with a letter or digit)
    """
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or ".." in name:
        from .errors import excerpt

        raise ConfigError(
            f"invalid {what} {excerpt(str(name))}: use letters, digits and . _ + - "
            "(starting with a letter or digit)",
            source=source,
        )
    return name


def safe_join(root: str | os.PathLike, *parts: str | os.PathLike) -> Path:
    """``root / parts...``, resolved, or a :class:`ConfigError` when it leaves ``root``.

    Symlinks are resolved on both sides, so a link inside ``root`` that points outside is
    refused too.

    >>> safe_join("/data", "../etc")
    Traceback (most recent call last):
    ...
    nerxl_data.errors.ConfigError: /data: '../etc' would be written outside this folder
    """
    base = Path(root).resolve()
    path = base.joinpath(*parts).resolve()
    if path != base and base not in path.parents:
        shown = "/".join(str(p) for p in parts)
        raise ConfigError(f"{shown!r} would be written outside this folder", source=str(root))
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _tmp_stem(name: str) -> str:
    """``.NAME``, or for a name too long to take the temporary suffix (a valid 254-character
    file name would exceed the 255-byte limit) its first 160 characters and a hash of the rest."""
    if len(name.encode()) <= 200:
        return f".{name}"
    import hashlib

    return f".{name[:160]}~{hashlib.sha1(name.encode()).hexdigest()[:12]}"


def temp_name(path: Path) -> Path:
    """The temporary sibling of ``path`` this process writes (``.NAME.nerxl-tmp-PID``)."""
    return path.with_name(f"{_tmp_stem(path.name)}{_TMP_MARK}{os.getpid()}")


def _remove_orphans(temporaries) -> int:
    n = 0
    for tmp in temporaries:
        pid = tmp.name.rsplit(_TMP_MARK, 1)[-1].split(".")[0]
        if pid.isdigit() and (int(pid) == os.getpid() or not _pid_alive(int(pid))):
            with contextlib.suppress(OSError):
                shutil.rmtree(tmp) if tmp.is_dir() and not tmp.is_symlink() else tmp.unlink()
                n += 1
    return n


def clean_stale(path: str | os.PathLike) -> int:
    """Remove temporaries of ``path`` left by processes that are gone; return how many."""
    path = Path(path)
    if not path.parent.is_dir():
        return 0
    return _remove_orphans(path.parent.glob(f"{glob_escape(_tmp_stem(path.name))}{_TMP_MARK}*"))


def clean_stale_in(folder: str | os.PathLike) -> int:
    """Remove the temporaries of every file of ``folder`` left by processes that are gone."""
    folder = Path(folder)
    return _remove_orphans(folder.glob(f".*{_TMP_MARK}*")) if folder.is_dir() else 0


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def check_output(path: str | os.PathLike) -> Path:
    """``path`` as a :class:`Path` that can be written as a file (not a folder), its folder made."""
    path = Path(path)
    if path.is_dir():
        raise InputError("is a directory; give a file name to write", source=str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder {path.parent}: {exc.strerror or exc}",
                         source=str(path)) from None
    return path


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether ``a`` and ``b`` name one file: the same resolved path (links followed), or, when
    both exist, the same inode (hard links, bind mounts)."""
    a, b = Path(a), Path(b)
    with contextlib.suppress(OSError):
        if a.exists() and b.exists() and os.path.samefile(a, b):
            return True
    return a.resolve() == b.resolve()


def check_distinct(outputs: dict[str, str | os.PathLike | None],
                   inputs: dict[str, str | os.PathLike | None]) -> None:
    """Refuse, before any work, an output that is the same file as an input, a cache or another
    output (``--out en.conll`` with ``--src-conll en.conll`` would overwrite the data it reads).

    Keys are the option names shown in the message; None values are skipped.

    >>> check_distinct({"--out": "/tmp/a.txt"}, {"--in": "/tmp/./a.txt"})
    Traceback (most recent call last):
    ...
    nerxl_data.errors.ConfigError: /tmp/a.txt: --out is the same file as --in; write the output to another file
    """
    outs = [(k, v) for k, v in outputs.items() if v is not None]
    ins = [(k, v) for k, v in inputs.items() if v is not None]
    for i, (name, path) in enumerate(outs):
        for other, other_path in outs[:i] + ins:
            if same_file(path, other_path):
                raise ConfigError(f"{name} is the same file as {other}; write the output to another file",
                                  source=str(path))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it is renamed to ``path``.

    On any exception the temporary is removed and ``path`` is left as it was (the old file, or
    nothing). Temporaries of killed earlier runs are removed first.
    """
    path = check_output(path)
    clean_stale(path)
    tmp = temp_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename in (None, str(tmp)):
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None  # name the output
        raise


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8",
                 newline: str | None = None) -> Iterator[IO]:
    """Open a temporary file next to ``path`` for writing; rename it to ``path`` when the block
    ends without an exception (flushed and fsynced first), else remove it.

    >>> import tempfile; d = tempfile.mkdtemp()
    >>> with atomic_write(f"{d}/out.txt") as f:
    ...     _ = f.write("done\\n")
    >>> open(f"{d}/out.txt").read()
    'done\\n'
    """
    with atomic_path(path) as tmp:
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": newline}
        with open(tmp, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_write(path) as f:
        f.write(text)
    return Path(path)


def _fresh_temp_folder(path: Path) -> Path:
    """This process's empty temporary folder next to ``path`` (stale ones of dead runs removed)."""
    clean_stale(path)
    tmp = temp_name(path)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


@contextlib.contextmanager
def filled_once(path: str | os.PathLike, complete) -> Iterator[Path]:
    """Yield an empty temporary folder next to ``path``, a cache folder filled once (a converted
    model); on success it is renamed to ``path``. When another process finished ``path`` first
    (``complete(path)`` true), ours is discarded; an incomplete leftover at ``path`` (files
    deleted by hand) is replaced. Nothing half-written is ever at ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _fresh_temp_folder(path)
    try:
        yield tmp
        try:
            os.rename(tmp, path)
        except OSError:
            if not complete(path):
                shutil.rmtree(path, ignore_errors=True)
                os.rename(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder next to ``path``; on success it replaces ``path``.

    The old folder stays in place until the new one is complete: it is moved aside, the new one
    renamed in, and only then the old one removed. If a run is killed between the two renames,
    the next run puts the old folder back before starting.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.with_name(f".{path.name}.nerxl-old")
    if old.is_dir() and not path.exists():  # a run was killed between the two renames
        old.rename(path)
    elif old.is_dir():
        shutil.rmtree(old, ignore_errors=True)
    tmp = _fresh_temp_folder(path)
    try:
        yield tmp
        if path.exists():
            path.rename(old)
        tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.is_dir() and not path.exists():
            old.rename(path)
        raise
    shutil.rmtree(old, ignore_errors=True)


def folder_fingerprint(path: str | os.PathLike) -> str:
    """Identify a local model folder by its files' names, sizes and modification times (a
    changed weight file changes the key; the folder's path does not enter it)."""
    import hashlib

    h = hashlib.sha256()
    for f in sorted(Path(path).iterdir()):
        if f.is_file():
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return "local-" + h.hexdigest()[:16]


@contextlib.contextmanager
def atomic_files(folder: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder inside ``folder``; on success each file written there is
    renamed into ``folder`` (one atomic rename per file, replacing the old one), else it is
    removed. A run killed while writing (a model's weights, say) leaves the old files whole,
    never a truncated one; temporaries of killed runs are removed first.

    >>> import tempfile; d = tempfile.mkdtemp()
    >>> with atomic_files(d) as tmp:
    ...     _ = (tmp / "model.bin").write_bytes(b"w")
    >>> sorted(p.name for p in Path(d).iterdir())
    ['model.bin']
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = _fresh_temp_folder(folder / "save")
    try:
        yield tmp
        for p in sorted(tmp.iterdir()):
            if p.is_dir() and not p.is_symlink():
                dest = folder / p.name
                if dest.is_dir() and not dest.is_symlink():
                    shutil.rmtree(dest)
            os.replace(p, folder / p.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


LOCK_NAME = ".nerxl.lock"
"""The lock file of a dataset folder (its name starts with ``.nerxl``: not a config, and
ignored by the dataset-folder check)."""


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, timeout: float = 600.0) -> Iterator[None]:
    """Hold the lock of ``folder`` (made if missing) for the block: config folders and the card
    are written under it, so two builds or publishes into one folder at the same moment cannot
    drop each other's config from the card (a lost update on README.md).

    Raises:
        ConfigError: another process holds it for more than ``timeout`` seconds.
    """
    from filelock import FileLock, Timeout

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / LOCK_NAME))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise ConfigError(f"another nerxl process has held this folder's lock for {timeout:g} s; "
                          f"wait for it, or remove {LOCK_NAME} if none is running", source=str(folder)) from None
    try:
        yield
    finally:
        lock.release()
