"""Integration tests in a real ComfyUI: run them with ComfyUI's Python and ``COMFYUI_PATH`` set.

    COMFYUI_PATH=/path/to/ComfyUI TN_MODEL_CACHE=/path/to/cache python -m pytest tests/integration

Without ``COMFYUI_PATH`` every test in this folder is skipped. ``TN_MODEL_CACHE`` names a folder that
keeps the generated random-weight models (about 4.3 GB) between runs; without it they go to a pytest
temporary folder. One ComfyUI server is started per session and stopped at its end.
"""

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from comfy_harness.client import ComfyClient
from comfy_harness.model_files import ensure_model_files
from comfy_harness.server import ComfyServer, comfyui_server

HERE = Path(__file__).resolve().parent
COMFYUI_PATH = os.environ.get("COMFYUI_PATH")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="integration test: set COMFYUI_PATH to a ComfyUI folder to run it")
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.comfyui)
            if not COMFYUI_PATH:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def comfyui_path() -> Path:
    path = Path(COMFYUI_PATH).expanduser().resolve()
    if not (path / "main.py").is_file() or not (path / "comfy").is_dir():
        pytest.fail(f"COMFYUI_PATH={COMFYUI_PATH} is not a ComfyUI folder (no main.py and comfy/)")
    return path


@pytest.fixture(scope="session")
def model_root(comfyui_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder with the random-weight model files (generated on first use)."""
    cache = os.environ.get("TN_MODEL_CACHE")
    root = Path(cache).expanduser().resolve() if cache else tmp_path_factory.mktemp("models")
    return ensure_model_files(root, comfyui_path)


@pytest.fixture(scope="session")
def comfyui(comfyui_path: Path, model_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComfyServer]:
    """A ComfyUI server with this pack and the random-weight models, shared by the whole session."""
    with comfyui_server(comfyui_path, tmp_path_factory.mktemp("comfyui"), model_root) as server:
        yield server


@pytest.fixture
def comfy(comfyui: ComfyServer) -> Iterator[ComfyClient]:
    """A client of the session's server; the test fails if the server died meanwhile."""
    with comfyui.client() as client:
        yield client
    comfyui.assert_alive()
