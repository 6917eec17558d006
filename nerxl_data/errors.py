"""User-facing errors, in one place.

Every error the toolkit raises on bad input is a :class:`NerxlError` (or a subclass). It carries
*where* the problem is (file and line, or dataset row) and *what* is wrong, so the CLI can print
one clear line and exit with status 2 instead of a traceback.
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import re
from collections.abc import Iterable


class NerxlError(Exception):
    """Base class of all user-facing errors.

    Args:
        message: what is wrong, in one sentence.
        source: the file, dataset or corpus the problem is in (optional).
        line: 1-based line number in ``source`` (optional).
        row: 0-based row (sentence) index in ``source`` (optional).
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        row: int | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.row = row
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.source is not None:
            where.append(str(self.source))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.row is not None:
            where.append(f"row {self.row}")
        text = f"{', '.join(where)}: {self.message}" if where else self.message
        return redact(text)


class InputError(NerxlError):
    """Malformed input data (a corpus file, a links file, a dataset)."""


class TagError(InputError):
    """An invalid tag sequence under the ``strict`` policy, or an unknown tag."""


class ConfigError(NerxlError):
    """An unknown name (aligner, method, corpus, language, ...) or an invalid option."""


class MissingDependencyError(NerxlError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the '{package}' package: pip install 'nerxl-data[{extra}]'"
        )


def unknown_name(kind: str, name: str, known: Iterable[str]) -> ConfigError:
    """A :class:`ConfigError` for an unknown ``name`` of some ``kind``, listing the known ones.

    >>> str(unknown_name("aligner", "simalign-itrmax", ["awesome", "simalign-itermax"]))
    "Unknown aligner 'simalign-itrmax' (did you mean 'simalign-itermax'?). Known: awesome, simalign-itermax"
    """
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    return ConfigError(f"Unknown {kind} {name!r}{hint}. Known: {', '.join(known)}")


def require(module: str, extra: str, purpose: str):
    """Import an optional dependency or raise :class:`MissingDependencyError` with the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module.split(".")[0], extra, purpose) from exc


# --- messages: short excerpts, no secrets ----------------------------------------------------

EXCERPT = 80
"""The longest excerpt of an input line that a message quotes (characters)."""


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """``repr`` of ``text``, cut to about ``limit`` characters with the length of what was cut.

    >>> excerpt("x" * 1_000_000)[:12], excerpt("x" * 1_000_000)[-30:]
    ("'xxxxxxxxxxx", "... (1,000,000 characters)'")
    >>> excerpt("short")
    "'short'"
    """
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit] + f"... ({len(text):,} characters)")


_SECRETS = [
    (re.compile(r"\b(Bearer)(\s+)[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE), r"\1\2***"),
    (re.compile(r"\b(hf|api_org)_[A-Za-z0-9]{12,}"), r"\1_***"),
    (re.compile(r"\b(authorization|x-api-key|cookie)(\s*[:=]\s*)['\"]?[^\s'\",}]+", re.IGNORECASE),
     r"\1\2***"),
    (re.compile(r"\b((?:access_)?token|password|secret)=[^&\s'\"]+", re.IGNORECASE), r"\1=***"),
]


_URL_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@'\"]+@")
"""``scheme://user:password@`` (or ``scheme://token@``) in a URL."""

_TOKEN_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_API_TOKEN")
_REGISTERED: set[str] = set()


def register_secret(value: str | None) -> None:
    """Redact ``value`` itself from every later message, whatever its shape (a token read from
    ``hf auth login``'s file, say; the ``HF_TOKEN`` variables are redacted without this)."""
    if value and len(value.strip()) >= 8:
        _REGISTERED.add(value.strip())


def _secret_values() -> list[str]:
    import os

    values = set(_REGISTERED)
    for var in _TOKEN_VARS:
        value = (os.environ.get(var) or "").strip()
        if len(value) >= 8:
            values.add(value)
    return sorted(values, key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with secrets replaced by ``***``: the actual token values (``HF_TOKEN`` and
    those passed to :func:`register_secret`, whatever their shape), token-like strings
    (``hf_...``, ``Bearer ...``, ``Authorization: ...``, ``token=...``) and ``user:password@``
    in URLs. Used for every error line and, through :class:`RedactFilter`, every log line.

    >>> redact("401: headers {'authorization': 'Bearer hf_abcdefgh12345'} for hf_XYZ1234567890")
    "401: headers {'authorization': 'Bearer ***'} for hf_***"
    >>> redact("cannot reach http://alice:s3cret@hub.local:8080/api")
    'cannot reach http://***@hub.local:8080/api'
    """
    for value in _secret_values():
        text = text.replace(value, "***")
    text = _URL_USERINFO.sub(r"\1***@", text)
    for pattern, repl in _SECRETS:
        text = pattern.sub(repl, text)
    return text


class RedactFilter(logging.Filter):
    """A logging filter that redacts the formatted message of every record (see :func:`redact`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to the handler to report
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class HubUnreachableError(NerxlError):
    """A model or dataset is not in the local cache and the Hub cannot be reached (or
    ``HF_HUB_OFFLINE`` is set)."""


def describe(exc: BaseException) -> str | None:
    """One line for a library exception a user can act on (I/O, decoding, parsing, the Hub),
    or ``None`` for anything else (a bug, which keeps its traceback).

    The line names the path or repo when the exception knows it, and says what to do.
    """
    import json

    name = type(exc).__name__
    module = type(exc).__module__ or ""
    cause = exc.__cause__ or exc.__context__
    ours = _in_chain(exc, lambda e: isinstance(e, NerxlError))
    if ours is not None:  # our own error, wrapped by a library (a Hub response hook's, say)
        return str(ours)
    timeout = _timeout_in(exc)
    if timeout is not None:
        try:
            limit = f" within {hub_timeout():g} s"
        except NerxlError:
            limit = ""
        return (f"the Hub (or another server) did not answer{limit} ({_first_line(timeout)}); set "
                "NERXL_HUB_TIMEOUT=SECONDS to wait longer, or NERXL_DATA_DIR / a local path to work offline")
    if module.startswith("datasets") and cause is not None and name.endswith(("GenerationError", "Error")):
        inner = describe(cause)
        if inner:
            return inner
    if isinstance(exc, UnicodeDecodeError):
        return (f"input is not valid UTF-8 (byte {exc.object[exc.start:exc.start + 1]!r} at offset "
                f"{exc.start}); convert the file to UTF-8")
    if isinstance(exc, json.JSONDecodeError):
        if str(exc.doc or "")[:200].lstrip().lower().startswith(("<!doctype html", "<html")):
            return ("a server returned an HTML page where JSON was expected (a proxy or login page?): "
                    "check HF_ENDPOINT and the proxy settings, or pass a local path")
        return f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    if module.startswith("huggingface_hub"):
        if name == "HFValidationError":
            return f"invalid Hub repo id or file name: {_first_line(exc)} (use ORG/NAME)"
        if name in ("OfflineModeIsEnabled", "LocalEntryNotFoundError"):
            return ("not in the local cache and the Hub is unreachable: pass a local path (a model or "
                    f"dataset folder), or set NERXL_DATA_DIR for the known corpora ({_first_line(exc)})")
        if name in ("RepositoryNotFoundError", "RevisionNotFoundError", "EntryNotFoundError",
                    "RemoteEntryNotFoundError", "GatedRepoError"):
            return f"{_first_line(exc)} (check the repo id and your token's access)"
        if name == "HfHubHTTPError" or isinstance(exc, OSError):
            status = getattr(getattr(exc, "response", None), "status_code", "?")
            server = getattr(exc, "server_message", None) or _first_line(exc)
            return f"the Hub refused the request (HTTP {status}): {server}"
    if isinstance(exc, BrokenPipeError):  # stdout closed (`| head`): not a network problem
        return None
    if module.startswith(("httpx", "httpcore", "requests", "urllib3")) or isinstance(
        exc, (ConnectionError, TimeoutError)
    ):
        return ("the Hub (or another server) is unreachable: " + _first_line(exc)
                + "; pass a local path (or set NERXL_DATA_DIR for the known corpora), or check the network")
    if module.startswith("pyarrow") or name == "ArrowInvalid":
        kind = "JSON" if "JSON" in str(exc) else "parquet/arrow"
        return f"cannot parse the input as {kind}: {_first_line(exc)}; check the input file"
    if isinstance(exc, OSError):
        what = exc.strerror or _first_line(exc)
        path = exc.filename
        hint = {13: "check the permissions", 28: "free some disk space", 30: "write somewhere else",
                21: "give a file, not a folder", 20: "a part of the path is a file",
                2: "check the path", 36: "use a shorter name"}.get(exc.errno or 0, "")
        where = f"{path}: " if path else ""
        return f"{where}{what}" + (f" ({hint})" if hint else "")
    if isinstance(exc, TypeError):
        m = re.search(r"(\w+)\.__init__\(\) (missing \d+ required \w+ argument[s]?: .*|"
                      r"got an unexpected keyword argument .*)", str(exc))
        if m:
            return f"{m.group(1)}: {m.group(2)} (pass it as an option, see --help)"
    return None


def _in_chain(exc: BaseException | None, test) -> BaseException | None:
    """The first exception in ``exc``'s chain (a library may wrap it) that passes ``test``."""
    seen = 0
    while exc is not None and seen < 8:
        if test(exc):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _timeout_in(exc: BaseException) -> BaseException | None:
    """The timeout exception in ``exc``'s chain (a library may wrap it), or None."""
    return _in_chain(exc, lambda e: isinstance(e, TimeoutError) or (
        type(e).__name__.endswith("Timeout")
        and (type(e).__module__ or "").startswith(("httpx", "httpcore", "requests", "urllib3"))))


def _first_line(exc: BaseException, limit: int = 300) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[:limit] + "..."


TIMEOUT_ENV = "NERXL_HUB_TIMEOUT"
DEFAULT_HUB_TIMEOUT = 30.0


def hub_timeout() -> float:
    """The Hub request timeout in seconds: ``NERXL_HUB_TIMEOUT``, else :data:`DEFAULT_HUB_TIMEOUT`.

    Raises:
        ConfigError: a value that is not a finite number of seconds > 0.
    """
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_HUB_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{TIMEOUT_ENV}={excerpt(text, 40)}: give a number of seconds > 0")
    return value
