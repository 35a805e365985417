"""Load the pack under the name ``temporal_noise`` so tests import ``temporal_noise.kernels`` etc."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the pack's root: standalone.py
sys.path.insert(0, str(Path(__file__).resolve().parent))  # test helpers such as fake_comfy.py
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools" / "workflows"))  # the workflow tools

from standalone import load_pack

load_pack()


import pytest  # noqa: E402


@pytest.fixture
def fake_comfy(monkeypatch):
    """Fake ``comfy`` modules (see tests/fake_comfy.py) for node unit tests; removed after the test."""
    import fake_comfy as fake

    for name in fake.MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    module = fake.install()
    yield module
    for name in fake.MODULES:
        sys.modules.pop(name, None)
