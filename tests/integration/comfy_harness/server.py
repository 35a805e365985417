"""Start a real ComfyUI (``--cpu``, loopback, a free port) with this pack loaded, and always stop it.

The pack is not copied into ComfyUI: a temporary ``custom_nodes`` folder holds a symlink named
``ComfyUI-TemporalNoise`` to the repository, and an extra-model-paths file adds that folder and the
generated models' folders. Input, output, temp and user folders live in the temporary work folder and the
database in memory, so a test run leaves the ComfyUI installation as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .client import ComfyClient
from .model_files import MODEL_FOLDERS

HOST = "127.0.0.1"
PACK_FOLDER_NAME = "ComfyUI-TemporalNoise"
PACK_ROOT = Path(__file__).resolve().parents[3]


class ServerFailed(RuntimeError):
    """ComfyUI did not come up, died, or failed to import the pack; the message ends with its log."""


@dataclass
class ComfyServer:
    process: subprocess.Popen
    port: int
    log_path: Path
    work_dir: Path

    @property
    def output_dir(self) -> Path:
        """Where SaveImage, SaveLatent, VHS etc. write (``--output-directory``)."""
        return self.work_dir / "output"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def client(self) -> ComfyClient:
        return ComfyClient(HOST, self.port)

    def assert_alive(self) -> None:
        if self.process.poll() is not None:
            raise ServerFailed(f"ComfyUI exited with {self.process.returncode}:\n{self.log_tail()}")

    def pack_import_failures(self) -> list[str]:
        """ComfyUI's log lines that report this pack failing to import."""
        return [
            line
            for line in self.log().splitlines()
            if PACK_FOLDER_NAME in line and ("IMPORT FAILED" in line or "Cannot import" in line)
        ]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def write_extra_paths(work_dir: Path, model_root: Path | None, pack_root: Path) -> Path:
    """The ``--extra-model-paths-config`` file: the pack's custom_nodes folder and the model folders."""
    custom_nodes = work_dir / "custom_nodes"
    custom_nodes.mkdir(parents=True, exist_ok=True)
    link = custom_nodes / PACK_FOLDER_NAME
    if not link.is_symlink():
        link.symlink_to(pack_root, target_is_directory=True)
    config: dict[str, dict[str, str]] = {"temporal_noise_pack": {"custom_nodes": str(custom_nodes)}}
    if model_root is not None:
        config["temporal_noise_models"] = {"base_path": str(model_root), **{f: f for f in MODEL_FOLDERS}}
    path = work_dir / "extra_model_paths.yaml"
    path.write_text(json.dumps(config, indent=2))  # JSON is YAML
    return path


def server_command(python: str, port: int, work_dir: Path, extra_paths: Path) -> list[str]:
    folders = {name: work_dir / name for name in ("input", "output", "user")}  # see ComfyServer.output_dir
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return [
        python, "main.py", "--cpu", "--listen", HOST, "--port", str(port), "--disable-auto-launch",
        "--extra-model-paths-config", str(extra_paths),
        "--input-directory", str(folders["input"]), "--output-directory", str(folders["output"]),
        "--temp-directory", str(work_dir),  # ComfyUI uses (and empties) its "temp" subfolder
        "--user-directory", str(folders["user"]), "--database-url", "sqlite:///:memory:",
    ]  # fmt: skip


def wait_until_serving(server: ComfyServer, timeout_s: float) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        server.assert_alive()
        try:
            with opener.open(f"http://{HOST}:{server.port}/system_stats", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise ServerFailed(f"ComfyUI did not answer /system_stats in {timeout_s:.0f} s:\n{server.log_tail()}")


def stop(process: subprocess.Popen, grace_s: float = 20.0) -> None:
    """Stop ComfyUI and anything it started (its own process group): SIGTERM, then SIGKILL."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=grace_s)


@contextlib.contextmanager
def comfyui_server(
    comfyui_path: Path,
    work_dir: Path,
    model_root: Path | None = None,
    *,
    pack_root: Path = PACK_ROOT,
    python: str = sys.executable,
    startup_timeout_s: float = 300.0,
) -> Iterator[ComfyServer]:
    """Run ComfyUI from ``comfyui_path`` with the pack at ``pack_root`` until the block ends.

    Raises ``ServerFailed`` (with the log tail) if it does not serve within ``startup_timeout_s``, dies,
    or logs an import failure of the pack. The server is stopped on leaving, also on errors.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    extra_paths = write_extra_paths(work_dir, model_root, pack_root)
    port = free_port()
    log_path = work_dir / "comfyui.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            server_command(python, port, work_dir, extra_paths),
            cwd=comfyui_path,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
    server = ComfyServer(process, port, log_path, work_dir)
    try:
        wait_until_serving(server, startup_timeout_s)
        failures = server.pack_import_failures()
        if failures:
            raise ServerFailed(f"ComfyUI failed to import the pack: {failures}\n{server.log_tail()}")
        yield server
    finally:
        stop(process)
