"""Node definitions as the ComfyUI frontend sees them, for checking and converting workflow JSON.

Definitions come from ``/object_info``: the fixture copy of a real server's answer (ComfyUI 0.3.64 + ADE + ACN +
VHS) plus this pack's nodes, whose entries are built from the classes the way ComfyUI's ``server.py`` builds
them. The frontend (comfyui-frontend-package 1.27) turns every input of a widget type into a widget, in
``input_order`` (required, then optional); ``widgets_values`` stores them in that order, with the extra values
of helper widgets (seed control, combo filter, upload button) right after the widget they belong to.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

OBJECT_INFO_FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "object_info.json"

WIDGET_TYPES = ("INT", "FLOAT", "BOOLEAN", "STRING", "COMBO")
DYNAMIC_COMBO = "COMFY_DYNAMICCOMBO_V3"  # a combo whose chosen option brings its own inputs (ComfyUI 0.33+)
CONTROL_VALUES = ("fixed", "increment", "decrement", "randomize")
# Combos that list files of a model/input folder; the fixture was captured with empty folders.
FOLDER_LISTINGS = {("VAELoader", "vae_name")}
UPLOAD_FLAGS = ("image_upload", "video_upload", "animated_image_upload")
# Frontend-only nodes: never sent to the server.
NOTE_NODES = ("Note", "MarkdownNote")
PRIMITIVE_NODE = "PrimitiveNode"
REROUTE_NODE = "Reroute"
VIRTUAL_NODES = (*NOTE_NODES, PRIMITIVE_NODE, REROUTE_NODE)


@dataclass(frozen=True)
class Input:
    """One input of a node definition."""

    name: str
    type: str  # "COMBO" for choice lists
    options: dict = field(default_factory=dict)
    choices: tuple | None = None
    optional: bool = False
    is_file: bool = False  # a folder listing: any file name is fine

    @property
    def is_widget(self) -> bool:
        return self.type in WIDGET_TYPES and not self.options.get("forceInput", False)

    @property
    def helper_widgets(self) -> tuple[str, ...]:
        """Kinds of the frontend-only widgets stored right after this one in ``widgets_values``."""
        control = self.options.get("control_after_generate")
        if self.type == "INT" and (control or (control is None and self.name in ("seed", "noise_seed"))):
            return ("control",)
        if self.type == "COMBO" and control:
            return ("control", "filter")
        return ()


@dataclass(frozen=True)
class WidgetSlot:
    """One entry of a node's ``widgets_values``: an input's value or a helper widget's value."""

    kind: str  # "value", "control", "filter" or "upload"
    input: Input

    @property
    def label(self) -> str:
        return self.input.name if self.kind == "value" else f"{self.input.name} ({self.kind})"


def parse_input(node_type: str, name: str, spec: list, optional: bool) -> Input:
    kind = spec[0]
    options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
    choices = None
    if isinstance(kind, list):
        kind, choices = "COMBO", tuple(kind)
    elif kind == "COMBO":
        choices = tuple(options.get("options", ()))
    is_file = kind == "COMBO" and (
        not choices or (node_type, name) in FOLDER_LISTINGS or any(options.get(flag) for flag in UPLOAD_FLAGS))
    return Input(name, kind, options, choices, optional, is_file)


def inputs(definition: dict) -> list[Input]:
    """Required then optional inputs in ``input_order`` (hidden inputs are not on the node)."""
    order = definition.get("input_order") or {key: list(value) for key, value in definition["input"].items()}
    found = []
    for section in ("required", "optional"):
        specs = definition["input"].get(section, {})
        for name in order.get(section, []):
            found.extend(expand_input(definition["name"], name, specs[name], section == "optional"))
    return found


def expand_input(node_type: str, name: str, spec: list, optional: bool) -> list[Input]:
    """One input, or for a V3 dynamic combo (ComfyUI 0.33+, e.g. core SaveVideo's ``format``) the combo of its
    option keys followed by the inputs of its default option, named ``name.child`` as the prompt sends them."""
    if spec[0] != DYNAMIC_COMBO:
        return [parse_input(node_type, name, spec, optional)]
    options = spec[1] if len(spec) > 1 else {}
    keys = tuple(option["key"] for option in options.get("options", ()))
    chosen = next(o for o in options["options"] if o["key"] == options.get("default", keys[0]))
    found = [Input(name, "COMBO", {k: v for k, v in options.items() if k != "options"}, keys, optional)]
    for section in ("required", "optional"):
        for child, child_spec in chosen.get("inputs", {}).get(section, {}).items():
            found.extend(expand_input(node_type, f"{name}.{child}", child_spec, optional or section == "optional"))
    return found


def sockets(definition: dict) -> list[Input]:
    """The node's input slots as the frontend creates them: link-only inputs first, then widget inputs."""
    every = inputs(definition)
    return [i for i in every if not i.is_widget] + [i for i in every if i.is_widget]


def widget_slots(definition: dict) -> list[WidgetSlot]:
    """What ``widgets_values`` holds, in order, for a node with this definition (list-valued nodes)."""
    slots = []
    uploads = []
    for item in inputs(definition):
        if not item.is_widget:
            continue
        slots.append(WidgetSlot("value", item))
        slots.extend(WidgetSlot(kind, item) for kind in item.helper_widgets)
        if not item.optional and any(item.options.get(flag) for flag in UPLOAD_FLAGS):
            uploads.append(WidgetSlot("upload", item))  # the frontend appends an "upload" button input last
    return slots + uploads


def custom_widget_inputs(definition: dict) -> list[str]:
    """Inputs the frontend would draw with a widget of a pack's own JS type, which these checks do not model."""
    unsupported = []
    for item in inputs(definition):
        widget_type = item.options.get("widgetType")
        if widget_type and widget_type not in WIDGET_TYPES:
            unsupported.append(item.name)
        elif item.type in ("ADEWARN", "VHSPATH", "MARKDOWN", "IMAGEUPLOAD"):
            unsupported.append(item.name)
    return unsupported


def uses_named_widgets(node_type: str) -> bool:
    """VideoHelperSuite's JS stores ``widgets_values`` as a dict keyed by widget name on all its nodes."""
    return node_type.startswith("VHS_")


def format_widgets(definition: dict, chosen_format: str) -> list[Input]:
    """VHS Video Combine's extra widgets for the chosen ``format`` (added by its JS after ``format``)."""
    spec = definition["input"]["required"].get("format")
    formats = spec[1].get("formats", {}) if spec and len(spec) > 1 else {}
    entries = formats.get(chosen_format, [])
    return [parse_input(definition["name"], entry[0], list(entry[1:]), False) for entry in entries]


def node_info(name: str, node_class: type, display_name: str | None) -> dict:
    """The ``/object_info`` entry of a V1 node class, built as ComfyUI 0.3.64's server builds it."""
    input_types = node_class.INPUT_TYPES()
    info = {
        "input": input_types,
        "input_order": {key: list(value) for key, value in input_types.items()},
        "output": node_class.RETURN_TYPES,
        "output_is_list": getattr(node_class, "OUTPUT_IS_LIST", [False] * len(node_class.RETURN_TYPES)),
        "output_name": getattr(node_class, "RETURN_NAMES", node_class.RETURN_TYPES),
        "name": name,
        "display_name": display_name or name,
        "description": getattr(node_class, "DESCRIPTION", ""),
        "python_module": "custom_nodes.ComfyUI-TemporalNoise",
        "category": getattr(node_class, "CATEGORY", "sd"),
        "output_node": getattr(node_class, "OUTPUT_NODE", False) is True,
    }
    if hasattr(node_class, "OUTPUT_TOOLTIPS"):
        info["output_tooltips"] = node_class.OUTPUT_TOOLTIPS
    return json.loads(json.dumps(info))  # tuples become lists, as in the server's JSON


@contextmanager
def comfy_samplers_from(object_info: dict) -> Iterator[None]:
    """Provide ``comfy.samplers.KSampler.SAMPLERS/SCHEDULERS`` with KSampler's choices from ``object_info``."""
    required = object_info["KSampler"]["input"]["required"]
    samplers = types.ModuleType("comfy.samplers")
    samplers.KSampler = type("KSampler", (), {"SAMPLERS": list(required["sampler_name"][0]),
                                              "SCHEDULERS": list(required["scheduler"][0])})
    comfy = types.ModuleType("comfy")
    comfy.samplers = samplers
    saved = {name: sys.modules.get(name) for name in ("comfy", "comfy.samplers")}
    sys.modules.update({"comfy": comfy, "comfy.samplers": samplers})
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def pack_object_info(object_info: dict) -> dict:
    """``/object_info`` entries of this pack's nodes, with ComfyUI's sampler choices from ``object_info``."""
    from temporal_noise import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

    with comfy_samplers_from(object_info):
        return {name: node_info(name, cls, NODE_DISPLAY_NAME_MAPPINGS.get(name))
                for name, cls in NODE_CLASS_MAPPINGS.items()}


@cache
def fixture_object_info() -> dict:
    return json.loads(OBJECT_INFO_FIXTURE.read_text(encoding="utf-8"))


@cache
def all_definitions() -> dict:
    """Fixture ``/object_info`` plus this pack's nodes: what a ComfyUI with our pack installed serves."""
    base = fixture_object_info()
    return {**base, **pack_object_info(base)}


def widget_defaults(node_class: type) -> dict:
    """The required inputs of a fresh node in the frontend: each widget's default, a list's first entry."""
    return {name: options.get("default", spec[0] if isinstance(spec, list) else None)
            for name, (spec, options, *_) in node_class.INPUT_TYPES()["required"].items()}
