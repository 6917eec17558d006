"""A small Hub-compatible HTTP server on 127.0.0.1, for tests that publish and load by name.

It speaks enough of the Hugging Face Hub API for the real ``huggingface_hub`` client (pointed at
it with ``HF_ENDPOINT`` and ``HF_HUB_DISABLE_XET=1``) and for ``datasets.load_dataset``:

- ``POST /api/repos/create``, ``GET /api/whoami-v2``, ``POST /api/validate-yaml``;
- ``GET /api/{type}s/{repo}[/revision/{rev}]`` (repo info with siblings and ``cardData``);
- ``POST .../preupload/{rev}`` (always answers ``regular``, so files come inline in the commit,
  with the git oid of the current file so the client skips unchanged files: a no-op commit);
- ``POST .../commit/{rev}`` (ndjson: ``header``, ``file``, ``deletedFile``, ``deletedFolder``);
- ``GET .../tree/{rev}[/{path}]``, ``POST .../paths-info/{rev}``, ``GET .../commits/{rev}``,
  ``GET .../refs``;
- ``HEAD``/``GET /{type}s/{repo}/resolve/{rev}/{path}`` with ``Range`` support.

Hand-written on :mod:`http.server` because no package provides a Hub double; the endpoint shapes
follow what ``huggingface_hub`` 2.x sends and parses. Everything lives in memory, and with
``root`` also on disk (``root/hub.json`` and ``root/blobs/``, written after every change and read
back at start), so a server restarted on the same folder serves the same repos: that is
``nerxl hub serve --root DIR``, a place to try publishing without an account. The server is
*bounded*: it refuses uploads past ``max_bytes`` (413) and shuts itself down after
``idle_timeout`` seconds without a request (None: never).

>>> with HubServer() as server:          # doctest: +SKIP
...     os.environ["HF_ENDPOINT"] = server.url
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

WRITE_TOKEN_PREFIX = "hf_"
"""Tokens the server accepts for writes: any bearer token starting with this prefix."""


def git_blob_oid(data: bytes) -> str:
    """The git blob id of ``data`` (what the Hub reports as a regular file's ``oid``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class _Commit:
    oid: str
    title: str
    message: str
    date: str
    files: dict[str, bytes]


@dataclass
class _Repo:
    repo_type: str
    repo_id: str
    commits: list[_Commit] = field(default_factory=list)  # oldest first; main = last

    def at(self, revision: str) -> _Commit | None:
        revision = unquote(revision)
        if revision in ("main", "refs/heads/main"):
            return self.commits[-1]
        for c in self.commits:
            if c.oid == revision:
                return c
        return None


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _card_data(readme: bytes | None) -> dict | None:
    if not readme:
        return None
    m = re.match(r"^---\s*\n(.*?)\n---\s*\n", readme.decode("utf-8", "replace"), re.S)
    if not m:
        return None
    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


class HubServer:
    """An in-memory Hub double served from a background thread on 127.0.0.1.

    Args:
        port: 0 picks a free port.
        max_bytes: total upload size the server accepts before answering 413.
        idle_timeout: seconds without a request after which the server stops itself (None: never).
        user: the user name ``whoami`` reports.
        root: a folder the repos are kept in (read at start, written after every change); None:
            memory only.
    """

    def __init__(
        self,
        port: int = 0,
        max_bytes: int = 256 * 2**20,
        idle_timeout: float | None = 900.0,
        user: str = "nerxl-test",
        root: str | os.PathLike | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.idle_timeout = idle_timeout
        self.user = user
        self.repos: dict[tuple[str, str], _Repo] = {}
        self.stored_bytes = 0
        self.root = Path(root) if root is not None else None
        if self.root is not None:
            self._load()
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status), for tests
        self._lock = threading.RLock()
        self._last_request = time.monotonic()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HubServer:
        serve = threading.Thread(target=self._httpd.serve_forever, name="hub-server", daemon=True)
        self._threads = [serve]
        if self.idle_timeout is not None:
            self._threads.append(threading.Thread(target=self._watchdog, name="hub-server-idle", daemon=True))
        for t in self._threads:
            t.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (``nerxl hub serve``)."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    # --- persistence (``root``) ---------------------------------------------------------------

    def _load(self) -> None:
        state = self.root / "hub.json"
        if not state.is_file():
            return
        blobs: dict[str, bytes] = {}

        def blob(oid: str) -> bytes:
            if oid not in blobs:
                blobs[oid] = (self.root / "blobs" / oid).read_bytes()
            return blobs[oid]

        for r in json.loads(state.read_text(encoding="utf-8"))["repos"]:
            repo = _Repo(r["type"], r["id"], [
                _Commit(c["oid"], c["title"], c["message"], c["date"], {p: blob(o) for p, o in c["files"].items()})
                for c in r["commits"]])
            self.repos[(repo.repo_type, repo.repo_id)] = repo
        self.stored_bytes = sum(len(b) for b in blobs.values())

    def _save(self) -> None:
        """Write every repo to ``root`` (blobs by git oid, written once; the state file replaced
        atomically), so a killed server loses at most the change it was writing."""
        if self.root is None:
            return
        (self.root / "blobs").mkdir(parents=True, exist_ok=True)
        repos = []
        for repo in self.repos.values():
            commits = []
            for c in repo.commits:
                files = {}
                for path, data in c.files.items():
                    oid = git_blob_oid(data)
                    target = self.root / "blobs" / oid
                    if not target.exists():
                        tmp = target.with_name(f".{oid}.tmp")
                        tmp.write_bytes(data)
                        tmp.replace(target)
                    files[path] = oid
                commits.append({"oid": c.oid, "title": c.title, "message": c.message, "date": c.date, "files": files})
            repos.append({"type": repo.repo_type, "id": repo.repo_id, "commits": commits})
        tmp = self.root / ".hub.json.tmp"
        tmp.write_text(json.dumps({"repos": repos}, indent=1), encoding="utf-8")
        tmp.replace(self.root / "hub.json")

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _watchdog(self) -> None:
        while True:
            time.sleep(min(5.0, self.idle_timeout))
            if time.monotonic() - self._last_request > self.idle_timeout:
                self._httpd.shutdown()
                return

    # --- repository operations (called by the handler under the lock) -------------------------

    def create_repo(self, repo_type: str, repo_id: str) -> bool:
        key = (repo_type, repo_id)
        if key in self.repos:
            return False
        repo = _Repo(repo_type, repo_id)
        gitattributes = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
        repo.commits.append(
            _Commit(self._oid(repo_id, "initial commit"), "initial commit", "", _now(),
                    {".gitattributes": gitattributes})
        )
        self.repos[key] = repo
        self._save()
        return True

    def commit(self, repo: _Repo, title: str, message: str, ops: list[dict]) -> _Commit:
        files = dict(repo.commits[-1].files)
        added = 0
        for op in ops:
            key, value = op["key"], op["value"]
            path = value["path"]
            if key == "file":
                data = base64.b64decode(value["content"]) if value.get("encoding") == "base64" \
                    else value["content"].encode()
                added += len(data)
                files[path] = data
            elif key == "deletedFile":
                files.pop(path, None)
            elif key == "deletedFolder":
                prefix = path.rstrip("/") + "/"
                files = {p: d for p, d in files.items() if not p.startswith(prefix)}
            else:
                raise ValueError(f"unsupported commit operation {key!r} (this server takes inline files only)")
        if self.stored_bytes + added > self.max_bytes:
            raise OverflowError(f"upload would exceed the server's limit of {self.max_bytes} bytes")
        self.stored_bytes += added
        c = _Commit(self._oid(repo.repo_id, title, str(len(repo.commits))), title, message, _now(), files)
        repo.commits.append(c)
        self._save()
        return c

    @staticmethod
    def _oid(*parts: str) -> str:
        return hashlib.sha1("\0".join(parts + (str(time.time_ns()),)).encode()).hexdigest()


_API = re.compile(r"^/api/(models|datasets|spaces)/([^/]+/[^/]+)(?:/(revision|preupload|commit|tree|paths-info|commits|refs)(?:/(.*))?)?$")
_RESOLVE = re.compile(r"^/(?:(datasets|spaces)/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")


def _entry(path: str, data: bytes) -> dict:
    return {"type": "file", "path": path, "size": len(data), "oid": git_blob_oid(data)}


def _folder(path: str) -> dict:
    return {"type": "directory", "path": path, "oid": hashlib.sha1(path.encode()).hexdigest()}


def _tree(files: dict[str, bytes], base: str, recursive: bool) -> list[dict] | None:
    prefix = base.strip("/") + "/" if base.strip("/") else ""
    out: dict[str, dict] = {}
    found = not prefix
    for path in sorted(files):
        if not path.startswith(prefix):
            continue
        found = True
        rest = path[len(prefix):].split("/")
        for depth in range(1, len(rest)):
            if depth > 1 and not recursive:
                break
            folder = prefix + "/".join(rest[:depth])
            out.setdefault(folder, _folder(folder))
        if recursive or len(rest) == 1:
            out[path] = _entry(path, files[path])
    return list(out.values()) if found else None


def _make_handler(server: HubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args) -> None:  # keep test output quiet
            pass

        # --- plumbing ------------------------------------------------------------------------
        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def _send(self, status: int, body: bytes = b"", headers: dict | None = None,
                  content_type: str = "application/json") -> None:
            server.requests.append((self.command, self.path, status))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, obj, headers: dict | None = None) -> None:
            self._send(status, json.dumps(obj).encode(), headers)

        def _error(self, status: int, message: str, code: str | None = None) -> None:
            headers = {"X-Error-Message": message}
            if code:
                headers["X-Error-Code"] = code
            self._json(status, {"error": message}, headers)

        def _authorized(self) -> bool:
            auth = self.headers.get("Authorization", "")
            return auth.startswith("Bearer " + WRITE_TOKEN_PREFIX)

        def _dispatch(self) -> None:
            server._last_request = time.monotonic()
            try:
                with server._lock:
                    self._route()
            except BrokenPipeError:
                pass
            except Exception as exc:  # a bug or bad request: answer instead of hanging the client
                self._error(400, f"{type(exc).__name__}: {exc}")

        do_GET = do_POST = do_HEAD = do_DELETE = _dispatch

        # --- routes ---------------------------------------------------------------------------
        def _route(self) -> None:
            url = urlsplit(self.path)
            path, query = url.path, parse_qs(url.query)
            if path == "/api/whoami-v2":
                if not self._authorized():
                    return self._error(401, "Invalid credentials in Authorization header")
                return self._json(200, {"type": "user", "name": server.user, "orgs": [],
                                        "auth": {"type": "access_token", "accessToken": {"role": "write"}}})
            if path == "/api/validate-yaml" and self.command == "POST":
                return self._validate_yaml()
            if path == "/api/repos/create" and self.command == "POST":
                return self._create_repo()
            m = _API.match(path)
            if m:
                return self._api(m.group(1)[:-1], m.group(2), m.group(3), m.group(4) or "", query)
            m = _RESOLVE.match(path)
            if m and self.command in ("GET", "HEAD"):
                return self._resolve((m.group(1) or "models")[:-1], m.group(2), m.group(3), unquote(m.group(4)))
            self._error(404, f"no route for {self.command} {path}")

        def _validate_yaml(self) -> None:
            content = json.loads(self._body()).get("content", "")
            m = re.match(r"^---\s*\n(.*?)\n---\s*\n", content, re.S)
            try:
                data = yaml.safe_load(m.group(1)) if m else {}
            except yaml.YAMLError as exc:
                return self._json(400, {"errors": [{"message": f"invalid YAML: {exc}"}]})
            if m and not isinstance(data, dict):
                return self._json(400, {"errors": [{"message": "metadata must be a mapping"}]})
            self._json(200, {"errors": [], "warnings": []})

        def _create_repo(self) -> None:
            if not self._authorized():
                return self._error(401, "Invalid credentials in Authorization header")
            payload = json.loads(self._body())
            repo_type = payload.get("type") or "model"
            name, org = payload["name"], payload.get("organization") or server.user
            repo_id = f"{org}/{name}"
            prefix = "" if repo_type == "model" else f"{repo_type}s/"
            if not server.create_repo(repo_type, repo_id):
                return self._json(409, {"error": "You already created this repo",
                                        "url": f"{server.url}/{prefix}{repo_id}"},
                                  {"X-Error-Message": "You already created this repo"})
            self._json(200, {"url": f"{server.url}/{prefix}{repo_id}", "name": repo_id})

        def _api(self, repo_type: str, repo_id: str, action: str | None, rest: str, query: dict) -> None:
            repo = server.repos.get((repo_type, repo_id))
            if repo is None:
                return self._error(404, "Repository not found", "RepoNotFound")
            if action is None or action == "revision":
                commit = repo.at(rest or "main")
                if commit is None:
                    return self._error(404, f"Invalid rev id: {rest}", "RevisionNotFound")
                return self._json(200, {
                    "id": repo_id, "author": repo_id.split("/")[0], "sha": commit.oid,
                    "lastModified": commit.date, "private": False, "disabled": False, "gated": False,
                    "tags": [], "downloads": 0, "likes": 0,
                    "cardData": _card_data(commit.files.get("README.md")),
                    "siblings": [{"rfilename": p, "size": len(d), "blobId": git_blob_oid(d)}
                                 for p, d in sorted(commit.files.items())],
                })
            if action == "refs":
                return self._json(200, {"branches": [{"name": "main", "ref": "refs/heads/main",
                                                      "targetCommit": repo.commits[-1].oid}],
                                        "tags": [], "converts": [], "pullRequests": []})
            revision, _, sub = rest.partition("/")
            commit = repo.at(revision)
            if commit is None:
                return self._error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
            if action == "commits":
                upto = repo.commits[: repo.commits.index(commit) + 1]
                return self._json(200, [{"id": c.oid, "title": c.title, "message": c.message,
                                         "date": c.date, "authors": [{"user": server.user}]}
                                        for c in reversed(upto)])
            if action == "tree":
                recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
                entries = _tree(commit.files, unquote(sub), recursive)
                if entries is None:
                    return self._error(404, f"{sub} does not exist", "EntryNotFound")
                return self._json(200, entries)
            if action == "paths-info":
                form = parse_qs(self._body().decode())
                out = []
                for p in form.get("paths", []):
                    if p in commit.files:
                        out.append(_entry(p, commit.files[p]))
                    elif any(f.startswith(p.rstrip("/") + "/") for f in commit.files):
                        out.append(_folder(p))
                return self._json(200, out)
            if action == "preupload":
                if not self._authorized():
                    return self._error(401, "Invalid credentials in Authorization header")
                files = json.loads(self._body())["files"]
                return self._json(200, {"files": [
                    {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                     "oid": git_blob_oid(commit.files[f["path"]]) if f["path"] in commit.files else None}
                    for f in files]})
            if action == "commit":
                if not self._authorized():
                    return self._error(401, "Invalid credentials in Authorization header")
                if commit is not repo.commits[-1]:
                    return self._error(400, "commits go to main only")
                lines = [json.loads(x) for x in self._body().splitlines() if x.strip()]
                header = next((x["value"] for x in lines if x["key"] == "header"), {})
                parent = header.get("parentCommit")
                if parent and parent != repo.commits[-1].oid:
                    return self._error(412, "parent commit is not the head of main")
                try:
                    new = server.commit(repo, header.get("summary", ""), header.get("description", ""),
                                        [x for x in lines if x["key"] != "header"])
                except OverflowError as exc:
                    return self._error(413, str(exc))
                prefix = "" if repo_type == "model" else f"{repo_type}s/"
                return self._json(200, {"success": True, "commitOid": new.oid,
                                        "commitUrl": f"{server.url}/{prefix}{repo_id}/commit/{new.oid}",
                                        "pullRequestUrl": None})
            self._error(404, f"no route for {self.command} {self.path}")

        def _resolve(self, repo_type: str, repo_id: str, revision: str, path: str) -> None:
            repo = server.repos.get((repo_type, repo_id))
            if repo is None:
                return self._error(404, "Repository not found", "RepoNotFound")
            commit = repo.at(revision)
            if commit is None:
                return self._error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
            data = commit.files.get(path)
            if data is None:
                return self._error(404, f"Entry not found: {path}", "EntryNotFound")
            headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{git_blob_oid(data)}"',
                       "Accept-Ranges": "bytes"}
            rng = re.match(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
            if rng and self.command == "GET":
                start = int(rng.group(1)) if rng.group(1) else max(0, len(data) - int(rng.group(2)))
                end = int(rng.group(2)) if rng.group(1) and rng.group(2) else len(data) - 1
                end = min(end, len(data) - 1)
                headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                return self._send(206, data[start:end + 1], headers, "application/octet-stream")
            self._send(200, data, headers, "application/octet-stream")

    return Handler
