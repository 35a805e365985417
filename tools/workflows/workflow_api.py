"""UI workflow JSON (format 0.4) → API prompt, with the logic of the ComfyUI frontend's ``graphToPrompt``.

Rules (comfyui-frontend-package 1.27, ``utils/executionUtil.ts`` and ``ExecutableNodeDTO``):
- Widget values map to inputs by the node definition's widget order; helper widgets (seed control, combo filter,
  upload button) are not sent. VideoHelperSuite nodes store a name → value dict instead of a list.
- A linked input becomes ``[origin_id, origin_slot]``, found by following the link through Reroute nodes and
  bypassed nodes (mode 4: the first input whose type fits passes through); a PrimitiveNode's value replaces the
  widget value of every input it feeds.
- Notes, primitives, reroutes, muted (mode 2) and bypassed nodes are not sent; links from removed nodes drop.
- List values are wrapped as ``{"__value__": [...]}`` so the server does not read them as links.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow_defs import (
    PRIMITIVE_NODE,
    REROUTE_NODE,
    VIRTUAL_NODES,
    Input,
    format_widgets,
    inputs,
    sockets,
    uses_named_widgets,
    widget_slots,
)

MODE_MUTED = 2
MODE_BYPASSED = 4
VHS_FRONTEND_KEYS = ("videopreview", "choose video to upload", "choose file to upload", "choose folder to upload")


@dataclass(frozen=True)
class Link:
    id: int
    origin: int
    origin_slot: int
    target: int
    target_slot: int
    type: str


def links_by_id(workflow: dict) -> dict[int, Link]:
    return {entry[0]: Link(*entry) for entry in workflow.get("links", [])}


def connection_allowed(output_type: str, input_type: str) -> bool:
    """LiteGraph's ``isValidConnection``: '*' or '' matches anything, comma lists match any member, case-blind."""
    if output_type in ("*", "") or input_type in ("*", "") or output_type == input_type:
        return True
    a, b = str(output_type).lower(), str(input_type).lower()
    if "," not in a and "," not in b:
        return a == b
    return any(connection_allowed(x, y) for x in a.split(",") for y in b.split(","))


def wrap(value):
    return {"__value__": value} if isinstance(value, list) else value


def widget_values(node: dict, definition: dict) -> dict:
    """The values the frontend sends for a node's widgets, by input name."""
    stored = node.get("widgets_values") or []
    if uses_named_widgets(node["type"]) and isinstance(stored, dict):
        every = [i for i in inputs(definition) if i.is_widget]
        if node["type"] == "VHS_VideoCombine":
            every += format_widgets(definition, stored.get("format", ""))
        return {item.name: wrap(stored[item.name]) for item in every if item.name in stored}
    return {slot.input.name: wrap(value) for slot, value in zip(widget_slots(definition), stored, strict=False)
            if slot.kind == "value"}


class Converter:
    def __init__(self, workflow: dict, definitions: dict) -> None:
        self.nodes = {node["id"]: node for node in workflow["nodes"]}
        self.links = links_by_id(workflow)
        self.definitions = definitions

    def is_executed(self, node: dict) -> bool:
        return node["type"] not in VIRTUAL_NODES and node.get("mode", 0) not in (MODE_MUTED, MODE_BYPASSED)

    def live_inputs(self, node: dict) -> list[tuple[Input, int | None]]:
        """The node's input slots as the loaded frontend holds them (definition order), with their link ids."""
        linked = {entry["name"]: entry.get("link") for entry in node.get("inputs") or []}
        return [(item, linked.get(item.name)) for item in sockets(self.definitions[node["type"]])]

    def resolve(self, link_id: int | None, input_type: str, seen: frozenset = frozenset()):
        """Follow a link to the executed output feeding it: ``("link", id, slot)``, ``("value", v)`` or None."""
        link = self.links.get(link_id) if link_id is not None else None
        if link is None or link.id in seen:
            return None
        seen = seen | {link.id}
        origin = self.nodes.get(link.origin)
        if origin is None:
            return None
        if origin["type"] == PRIMITIVE_NODE:
            return ("value", wrap((origin.get("widgets_values") or [None])[0]))
        if origin["type"] == REROUTE_NODE:
            return self.resolve((origin.get("inputs") or [{}])[0].get("link"), input_type, seen)
        if origin.get("mode", 0) == MODE_BYPASSED:
            return self.resolve_bypassed(origin, link.origin_slot, input_type, seen)
        if not self.is_executed(origin):
            return None
        return ("link", str(origin["id"]), link.origin_slot)

    def resolve_bypassed(self, node: dict, slot: int, input_type: str, seen: frozenset):
        """A bypassed node passes on its first input that fits (the frontend's ``getBypassSlotIndex``)."""
        live = self.live_inputs(node)
        output_type = self.definitions[node["type"]]["output"][slot]
        if input_type in ("*", ""):
            index = slot if len(live) > slot else 0
        elif slot < len(live) and connection_allowed(live[slot][0].type, output_type) and connection_allowed(
                live[slot][0].type, input_type):
            index = slot
        else:
            exact = [i for i, (item, _) in enumerate(live) if item.type == input_type]
            fitting = [i for i, (item, _) in enumerate(live) if connection_allowed(item.type, output_type)
                       and connection_allowed(item.type, input_type)]
            index = (exact or fitting or [None])[0]
        if index is None or index >= len(live):
            return None
        return self.resolve(live[index][1], input_type, seen)

    def node_prompt(self, node: dict) -> dict:
        definition = self.definitions[node["type"]]
        values = widget_values(node, definition)
        for item, link_id in self.live_inputs(node):
            if link_id is None:
                continue
            resolved = self.resolve(link_id, item.type)
            if resolved is None:
                continue
            values[item.name] = resolved[1] if resolved[0] == "value" else [resolved[1], resolved[2]]
        entry = {"inputs": values, "class_type": node["type"]}
        entry["_meta"] = {"title": node.get("title") or definition.get("display_name") or node["type"]}
        return entry

    def prompt(self) -> dict:
        return {str(node_id): self.node_prompt(node) for node_id, node in self.nodes.items() if self.is_executed(node)}


def to_api(workflow: dict, definitions: dict) -> dict:
    """The API prompt (``POST /prompt``'s ``prompt``) the frontend would queue for this UI workflow."""
    return Converter(workflow, definitions).prompt()
