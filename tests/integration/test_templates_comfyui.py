"""The template browser's view of the pack in a real ComfyUI: the workflows it lists, and each thumbnail."""

import json
import urllib.parse
from pathlib import Path

from comfy_harness.client import ComfyClient
from comfy_harness.server import PACK_FOLDER_NAME, PACK_ROOT

WORKFLOWS = sorted((PACK_ROOT / "workflows").glob("*.json"))


def test_template_browser_lists_every_workflow_with_its_thumbnail(comfy: ComfyClient) -> None:
    """``/api/workflow_templates`` names each of our workflows under the pack's folder (the title the browser
    shows), and ``<name>.jpg`` beside it is served as the JPEG the browser loads as its thumbnail."""
    listed = comfy.get("/api/workflow_templates")[PACK_FOLDER_NAME]
    names = [Path(name).stem if name.endswith(".json") else name for name in listed]
    assert sorted(names) == [path.stem for path in WORKFLOWS]
    for path in WORKFLOWS:
        quoted = urllib.parse.quote(f"{PACK_FOLDER_NAME}/{path.stem}")
        kind, body = comfy.get_bytes(f"/api/workflow_templates/{quoted}.jpg")
        assert kind == "image/jpeg" and body[:3] == b"\xff\xd8\xff", path.stem
        assert body == path.with_suffix(".jpg").read_bytes()
        _, workflow = comfy.get_bytes(f"/api/workflow_templates/{quoted}.json")
        assert json.loads(workflow) == json.loads(path.read_text())
