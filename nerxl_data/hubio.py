"""Reaching the Hub, or not: one quick check before anything is fetched by name.

Without a network, ``huggingface_hub``, ``datasets`` and ``transformers`` retry for tens of
seconds before failing with a library exception. :func:`resolve_repo` answers in about a second:
a local path is used as it is; a repo in the local Hub cache is used from there when the Hub
cannot be reached; anything else raises one :class:`~nerxl_data.errors.HubUnreachableError`.
``HF_HUB_OFFLINE=1`` (or ``HF_DATASETS_OFFLINE=1`` for datasets) skips the network check.
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from .errors import HubUnreachableError, InputError, hub_timeout

TIMEOUT = 1.5
"""Seconds to wait for a TCP connection to the Hub (or the HTTPS proxy)."""

"""Seconds every Hub request may wait to connect, and then between two reads (so a large
download goes on while bytes arrive, but a server that accepts and never answers fails);
``NERXL_HUB_TIMEOUT`` changes it."""

_applied: float | None = None

MESSAGE = "not in the local cache and the Hub is unreachable: set NERXL_DATA_DIR or pass a local path"
"""The hint for a dataset (a registry corpus: ``NERXL_DATA_DIR`` holds local copies)."""

MODEL_MESSAGE = ("not in the local cache and the Hub is unreachable: pass a local model folder (a model "
                 "loaded once with the network up is used from the Hub cache)")
"""The hint for a model: ``NERXL_DATA_DIR`` is about corpora, not models."""


def apply_hub_timeout() -> float:
    """Give every ``huggingface_hub`` request (API calls, downloads, the ``datasets`` and
    ``transformers`` loads that go through it) connect and read timeouts of :func:`hub_timeout`
    seconds; return them. huggingface_hub's own client waits forever on a server that accepts a
    connection and never answers. ``HF_HUB_ETAG_TIMEOUT`` / ``HF_HUB_DOWNLOAD_TIMEOUT``, when set,
    still rule their calls. Called before anything is fetched by name."""
    global _applied
    seconds = hub_timeout()
    if _applied == seconds:
        return seconds
    import huggingface_hub
    from huggingface_hub import constants
    from huggingface_hub.utils import _http

    for name in ("HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT"):
        if not os.environ.get(name):
            setattr(constants, name, seconds)
    from huggingface_hub import file_download

    if hasattr(file_download, "_ETAG_RETRY_TIMEOUT"):  # its second try of a file not cached: 60 s,
        file_download._ETAG_RETRY_TIMEOUT = seconds  # six times over (a model load by name took hours)

    def factory():
        client = _http.default_client_factory()
        client.timeout = seconds
        default = client.timeout.as_dict()

        def fill(request):  # huggingface_hub passes timeout=None per call, which beats the client's
            given = request.extensions.get("timeout")
            if not given or all(v is None for v in given.values()):
                request.extensions["timeout"] = dict(default)

        hooks = client.event_hooks
        client.event_hooks = {**hooks, "request": [*hooks["request"], fill],
                              "response": [*hooks.get("response", []), refuse_html]}
        return client

    huggingface_hub.set_client_factory(factory)
    _applied = seconds
    return seconds


def refuse_html(response) -> None:
    """A response hook: an HTML page answering a Hub request (a proxy's or a captive portal's
    login page, say, sent with status 200) is one error naming the URL, not the JSON parser's
    "invalid JSON at line 1" (which reads like a local file problem) or an HTML page saved as a
    downloaded file. A file that is HTML itself (``*.html``) is let through.

    Raises:
        HubUnreachableError: naming the URL (credentials redacted when printed).
    """
    kind = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind not in ("text/html", "application/xhtml+xml") or not 200 <= response.status_code < 300:
        return  # an error status is reported by huggingface_hub, with the server's message
    url = response.request.url
    if url.path.lower().endswith((".html", ".htm")):
        return
    raise HubUnreachableError(
        f"the server returned an HTML page (HTTP {response.status_code}, {kind}) where the Hub answers "
        "with data: a proxy or login page? Check HF_ENDPOINT and the proxy settings (HTTPS_PROXY), or "
        "pass a local path", source=str(url))


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def offline(repo_type: str = "model") -> bool:
    """``HF_HUB_OFFLINE`` (or, for datasets, ``HF_DATASETS_OFFLINE``) is set."""
    return _truthy("HF_HUB_OFFLINE") or (repo_type == "dataset" and _truthy("HF_DATASETS_OFFLINE"))


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT") or "https://huggingface.co"


@functools.lru_cache(maxsize=8)
def _reachable(url: str, proxy: str | None) -> bool:
    target = urlparse(proxy or url)
    host = target.hostname
    if not host:
        return False
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT):
            return True
    except OSError:
        return False


def hub_reachable() -> bool:
    """Whether a TCP connection to the Hub endpoint (or the HTTPS proxy) opens within
    :data:`TIMEOUT` seconds; ``False`` at once when offline mode is set. Cached per process."""
    if offline():
        return False
    url = endpoint()
    proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy") if url.startswith("https") else (
        os.environ.get("HTTP_PROXY") or os.environ.get("http_proxy"))
    return _reachable(url, proxy or None)


def cached_snapshot(repo_id: str, repo_type: str = "model", revision: str | None = None) -> str | None:
    """The local snapshot folder of ``repo_id`` (at ``revision``) in the Hub cache, or ``None``."""
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(repo_id, repo_type=repo_type, revision=revision, local_files_only=True)
    except Exception:  # not cached, or not a valid repo id
        return None


def _datasets_cached(repo_id: str) -> bool:
    """Whether ``datasets`` has a prepared copy of ``repo_id`` in its own cache."""
    try:
        import datasets.config as dc

        root = Path(dc.HF_DATASETS_CACHE)
    except Exception:
        return False
    return any(root.glob(repo_id.replace("/", "___") + "*"))


def resolve_repo(name: str, repo_type: str = "model", what: str | None = None,
                 revision: str | None = None) -> str:
    """``name`` (a local path or a Hub repo id) as something that can be loaded now.

    - an existing local path: returned unchanged;
    - the Hub is reachable: ``name`` (the library downloads it);
    - the Hub is unreachable or offline mode is set: the cached snapshot folder (models), or
      ``name`` when ``datasets`` has it cached (``revision``: that revision's snapshot);

    Raises:
        InputError: not an existing path, and not a Hub repo id either (``runs/hau+en``): a
            folder that does not exist (yet), not a Hub question.
        HubUnreachableError: not local, not cached, and the Hub cannot be reached.
    """
    if Path(name).exists():
        return name
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError:
        raise InputError(f"no such file or folder (and {name!r} is not a Hub repo id either)",
                         source=f"{what or repo_type} {name}") from None
    apply_hub_timeout()
    if not offline(repo_type) and hub_reachable():
        return name
    snapshot = cached_snapshot(name, repo_type, revision)
    if snapshot is not None:
        return snapshot if repo_type == "model" else name
    if repo_type == "dataset" and _datasets_cached(name):
        return name
    state = "offline mode is set (HF_HUB_OFFLINE)" if offline(repo_type) else "the Hub is unreachable"
    label = what or ("model" if repo_type == "model" else "dataset")
    message = MODEL_MESSAGE if repo_type == "model" else MESSAGE
    raise HubUnreachableError(message if "unreachable" in state else message.replace(
        "the Hub is unreachable", state), source=f"{label} {name}")
