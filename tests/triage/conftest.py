"""One classifier for the whole triage test session (loading is done once, classify is pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import load_config
from gateway.triage import Classifier

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def clf() -> Classifier:
    return Classifier.from_config(load_config(ROOT / "config" / "gateway.yaml"))
