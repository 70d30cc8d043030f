"""Shared test fixtures. Subfolders add their own conftest.py for their concern."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["tests.support.clock", "tests.support.databases", "tests.support.service"]

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "tests" / "samples"


@pytest.fixture
def sample_record() -> dict[str, Any]:
    """The sample incident record of DESIGN.md §3, fresh for each test."""
    return json.loads((SAMPLES / "incident.json").read_text(encoding="utf-8"))
