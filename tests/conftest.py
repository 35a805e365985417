"""Load the pack under the name ``temporal_noise`` so tests import ``temporal_noise.kernels`` etc."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from standalone import load_pack

load_pack()


import pytest  # noqa: E402


@pytest.fixture
def fake_comfy(monkeypatch):
    """Fake ``comfy`` modules (progress bar, interrupt) for node tests; removed after the test."""
    import fake_comfy as fake

    for name in ("comfy", "comfy.utils", "comfy.model_management"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    module = fake.install()
    yield module
    for name in ("comfy", "comfy.utils", "comfy.model_management"):
        sys.modules.pop(name, None)
