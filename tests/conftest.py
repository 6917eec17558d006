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
    return path
