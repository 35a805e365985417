"""Build UI workflow JSON (format 0.4) as the ComfyUI frontend saves it, from node definitions.

Used to write the pack's ``workflows/*.json`` (``build_workflows.py``) and, in tests, small workflows that
are then broken on purpose. Widget values are given by input name; the rest (order, defaults, the seed-control
value, VideoHelperSuite's dict form, slot indices, link lists) follows the definitions as the frontend does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from workflow_defs import (
    NOTE_NODES,
    PRIMITIVE_NODE,
    Input,
    format_widgets,
    inputs,
    sockets,
    uses_named_widgets,
    widget_slots,
)

SLOT_HEIGHT = 20
WIDGET_HEIGHT = 24
TEXT_HEIGHT = 90
VIDEO_PREVIEW_HEIGHT = 280


def default_value(item: Input):
    if "default" in item.options:
        return item.options["default"]
    if item.type == "COMBO":
        if item.is_file or not item.choices:
            raise ValueError(f"input {item.name!r} lists files: give a file name")
        return item.choices[0]
    return {"INT": 0, "FLOAT": 0.0, "BOOLEAN": False, "STRING": ""}[item.type]


@dataclass
class Node:
    id: int
    type: str
    pos: tuple[float, float]
    size: tuple[float, float]
    widgets_values: list | dict
    title: str | None = None
    mode: int = 0
    color: str | None = None
    bgcolor: str | None = None
    inputs: list[dict] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    models: list[dict] = field(default_factory=list)  # properties.models: {name, url, directory} of each model file

    @property
    def bottom(self) -> float:
        return self.pos[1] + self.size[1]

    @property
    def right(self) -> float:
        return self.pos[0] + self.size[0]


class Graph:
    def __init__(self, definitions: dict) -> None:
        self.definitions = definitions
        self.nodes: list[Node] = []
        self.links: list[list] = []
        self.groups: list[dict] = []

    def add(self, node_type: str, pos: tuple[float, float], widgets: dict | None = None, *, width: float = 315,
            height: float | None = None, title: str | None = None) -> Node:
        """A node of ``node_type`` with widget values by input name (missing ones get their defaults).

        ``"<name>_control"`` sets the control_after_generate mode of a seed (default "fixed").
        """
        definition = self.definitions[node_type]
        named = uses_named_widgets(node_type)
        widget_values = self.widget_values(definition, widgets or {}, named)
        node_sockets = [i for i in sockets(definition) if not i.is_widget]
        texts = sum(1 for i in inputs(definition) if i.is_widget and i.options.get("multiline"))
        widgets = len(widget_values) - (2 if named else 0)
        rows = max(len(node_sockets), len(definition["output"]))
        auto_height = rows * SLOT_HEIGHT + widgets * WIDGET_HEIGHT + texts * TEXT_HEIGHT + 10
        if node_type == "VHS_VideoCombine" or node_type == "VHS_LoadVideo":
            auto_height += VIDEO_PREVIEW_HEIGHT
        node = Node(len(self.nodes) + 1, node_type, pos, (width, height or auto_height), widget_values, title)
        node.inputs = [{"name": i.name, "type": i.type, "link": None, **({"shape": 7} if i.optional else {})}
                       for i in node_sockets]
        node.outputs = [{"name": name, "type": kind, "links": [], "slot_index": index}
                        for index, (name, kind) in enumerate(zip(definition["output_name"], definition["output"],
                                                                 strict=True))]
        self.nodes.append(node)
        return node

    @staticmethod
    def widget_values(definition: dict, values: dict, named: bool) -> list | dict:
        given = dict(values)
        every = [i for i in inputs(definition) if i.is_widget]
        if named:
            chosen = {i.name: given.pop(i.name, None) for i in every}
            chosen = {name: value if value is not None else default_value(item)
                      for (name, value), item in zip(chosen.items(), every, strict=True)}
            if definition["name"] == "VHS_VideoCombine":
                for item in format_widgets(definition, chosen["format"]):
                    chosen[item.name] = given.pop(item.name, default_value(item))
            if definition["name"] == "VHS_LoadVideo":
                chosen["choose video to upload"] = "image"
            chosen["videopreview"] = {"hidden": False, "paused": False, "params": {}}
            leftover = given
        else:
            chosen = []
            for slot in widget_slots(definition):
                name = slot.input.name
                if slot.kind == "value":
                    chosen.append(given.pop(name) if name in given else default_value(slot.input))
                elif slot.kind == "control":
                    chosen.append(given.pop(f"{name}_control", "fixed"))
                else:
                    chosen.append("" if slot.kind == "filter" else "image")
            leftover = given
        if leftover:
            raise ValueError(f"{definition['name']} has no widgets {sorted(leftover)}")
        return chosen

    def note(self, text: str, pos: tuple[float, float], size: tuple[float, float], title: str = "Note") -> Node:
        node = Node(len(self.nodes) + 1, NOTE_NODES[0], pos, size, [text], title, color="#432", bgcolor="#653")
        self.nodes.append(node)
        return node

    def primitive(self, kind: str, value, pos: tuple[float, float], title: str, control: str = "fixed") -> Node:
        """A PrimitiveNode; connect it with ``link(primitive, 0, node, widget_name)``."""
        helpers = ["fixed" if control is None else control] + ([""] if kind == "COMBO" else [])
        values = [value] + (helpers if kind in ("INT", "FLOAT", "COMBO") else [])
        height = SLOT_HEIGHT + len(values) * WIDGET_HEIGHT + 10
        node = Node(len(self.nodes) + 1, PRIMITIVE_NODE, pos, (315, height), values, title)
        node.outputs = [{"name": kind, "type": kind, "links": [], "slot_index": 0, "widget": {"name": ""}}]
        self.nodes.append(node)
        return node

    def link(self, origin: Node, output: int | str, target: Node, input_name: str) -> int:
        """Connect ``origin``'s output (index or name) to ``target``'s input, converting a widget if needed."""
        if isinstance(output, str):
            output = [o["name"] for o in origin.outputs].index(output)
        entry = next((e for e in target.inputs if e["name"] == input_name), None)
        if entry is None:
            item = {i.name: i for i in inputs(self.definitions[target.type])}[input_name]
            if not item.is_widget:
                raise ValueError(f"{target.type} has no input {input_name!r}")
            entry = {"name": item.name, "type": item.type, "link": None, "widget": {"name": item.name}}
            target.inputs.append(entry)
            order = [i.name for i in sockets(self.definitions[target.type])]
            target.inputs.sort(key=lambda e: order.index(e["name"]))
        if entry["link"] is not None:
            raise ValueError(f"node {target.id} input {input_name!r} is already connected")
        link_id = len(self.links) + 1
        kind = origin.outputs[output]["type"]
        if origin.type == PRIMITIVE_NODE and not origin.outputs[output]["links"]:
            origin.outputs[output]["widget"] = {"name": input_name}  # the frontend keeps the first target's
        entry["link"] = link_id
        origin.outputs[output]["links"].append(link_id)
        self.links.append([link_id, origin.id, output, target.id, None, kind])
        return link_id

    def connect(self, target: Node, **sources: Node | tuple[Node, int | str]) -> None:
        """Link several inputs of ``target``: ``input_name=node`` (its output 0) or ``=(node, output)``."""
        for name, source in sources.items():
            origin, output = source if isinstance(source, tuple) else (source, 0)
            self.link(origin, output, target, name)

    def group(self, title: str, members: list[Node], color: str = "#3f789e", margin: float = 20) -> None:
        left = min(n.pos[0] for n in members) - margin
        top = min(n.pos[1] for n in members) - margin - 30 - 35  # title bar of the nodes and of the group
        right = max(n.right for n in members) + margin
        bottom = max(n.bottom for n in members) + margin
        self.groups.append({"id": len(self.groups) + 1, "title": title, "bounding": [left, top, right - left,
                                                                                     bottom - top],
                            "color": color, "font_size": 24, "flags": {}})

    def execution_order(self) -> dict[int, int]:
        feeds = {node.id: set() for node in self.nodes}
        for _, origin, _, target, _, _ in self.links:
            feeds[target].add(origin)
        order: dict[int, int] = {}
        while len(order) < len(self.nodes):
            ready = [i for i, before in feeds.items() if i not in order and before <= order.keys()]
            for node_id in sorted(ready):
                order[node_id] = len(order)
        return order

    def to_json(self, name: str) -> dict:
        order = self.execution_order()
        slot_of = {}
        for node in self.nodes:
            for index, entry in enumerate(node.inputs):
                if entry["link"] is not None:
                    slot_of[entry["link"]] = index
        links = [[i, o, os, t, slot_of[i], kind] for i, o, os, t, _, kind in self.links]
        nodes = []
        for node in self.nodes:
            data = {"id": node.id, "type": node.type, "pos": list(node.pos), "size": list(node.size), "flags": {},
                    "order": order[node.id], "mode": node.mode, "inputs": node.inputs, "outputs": node.outputs}
            if node.title:
                data["title"] = node.title
            data["properties"] = {} if node.type in NOTE_NODES or node.type == PRIMITIVE_NODE else {
                "Node name for S&R": node.type}
            if node.type == PRIMITIVE_NODE:
                data["properties"] = {"Run widget replace on values": False}
            if node.models:
                data["properties"]["models"] = node.models
            data["widgets_values"] = node.widgets_values
            for key in ("color", "bgcolor"):
                if getattr(node, key):
                    data[key] = getattr(node, key)
            nodes.append(data)
        return {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"comfyui-temporal-noise/workflows/{name}")),
            "revision": 0,
            "last_node_id": len(self.nodes),
            "last_link_id": len(self.links),
            "nodes": nodes,
            "links": links,
            "groups": self.groups,
            "config": {},
            "extra": {"ds": {"scale": 0.75, "offset": [60, 60]}},
            "version": 0.4,
        }
