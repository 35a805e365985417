"""Check a UI workflow (format 0.4) against node definitions, as the frontend loads it and the server validates it.

``problems(workflow, definitions)`` lists every problem found, each naming the node id and type, and the input,
output or link concerned. An empty list means: every node type exists, every link joins an output to an input
of a compatible type and is recorded the same way on both nodes, every node's ``widgets_values`` has the
frontend's count and order (helper widgets included) with values of the right type inside the input's range or
choice list, and the API prompt the frontend would queue gives every executed node all its required inputs.
"""

from __future__ import annotations

import math

from workflow_api import MODE_BYPASSED, MODE_MUTED, VHS_FRONTEND_KEYS, Converter, connection_allowed, links_by_id
from workflow_defs import (
    CONTROL_VALUES,
    NOTE_NODES,
    PRIMITIVE_NODE,
    REROUTE_NODE,
    VIRTUAL_NODES,
    Input,
    custom_widget_inputs,
    format_widgets,
    inputs,
    sockets,
    uses_named_widgets,
    widget_slots,
)

MODES = (0, MODE_MUTED, MODE_BYPASSED)
# Options the frontend ignores when one primitive feeds several widgets (``utils/nodeDefUtil.ts``).
MERGE_IGNORED = {"default", "forceInput", "defaultInput", "control_after_generate", "multiline", "tooltip",
                 "dynamicPrompts", "min", "max", "step", "options"}


def where(node: dict) -> str:
    return f"node {node.get('id')} ({node.get('type')})"


def value_problem(item: Input, value) -> str | None:
    """Why ``value`` cannot be this input's widget value, or None when it can."""
    options = item.options
    if item.type == "COMBO":
        if item.is_file:
            return None if isinstance(value, str) and "." in value.strip(".") else f"{value!r} is not a file name"
        return None if value in item.choices else f"{value!r} is not one of {list(item.choices)[:12]}"
    if item.type == "BOOLEAN":
        return None if isinstance(value, bool) else f"{value!r} is not a boolean"
    if item.type == "STRING":
        return None if isinstance(value, str) else f"{value!r} is not a string"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return f"{value!r} is not a number"
    if item.type == "INT" and value != int(value):
        return f"{value!r} is not an integer"
    if "min" in options and value < options["min"]:
        return f"{value!r} is below the minimum {options['min']}"
    if "max" in options and value > options["max"]:
        return f"{value!r} is above the maximum {options['max']}"
    step = options.get("step")
    if item.type == "INT" and step and step > 1 and (value - options.get("min", 0) % step) % step:
        return f"{value!r} is not on the widget's step of {step} (from {options.get('min', 0)})"
    return None


def merge_problem(first: Input, other: Input) -> str | None:
    """Why the frontend refuses one primitive for both widgets (``mergeInputSpec``), or None."""
    if first.type != other.type:
        return f"widget types {first.type} and {other.type} differ"
    if first.type == "COMBO" and not set(first.choices) & set(other.choices):
        return "the choice lists have nothing in common"
    if first.type in ("INT", "FLOAT"):
        low = max(first.options.get("min", -math.inf), other.options.get("min", -math.inf))
        high = min(first.options.get("max", math.inf), other.options.get("max", math.inf))
        if low > high:
            return "the ranges do not overlap"
    keys = (first.options.keys() | other.options.keys()) - MERGE_IGNORED
    differing = sorted(k for k in keys if first.options.get(k) != other.options.get(k))
    return f"options {differing} differ" if differing else None


def helper_problem(kind: str, item: Input, value) -> str | None:
    if kind == "control":
        allowed = CONTROL_VALUES + (("increment-wrap",) if item.type == "COMBO" else ())
        return None if value in allowed else f"{value!r} is not a control_after_generate mode {list(allowed)}"
    return None if isinstance(value, str) else f"{value!r} is not a string"


class Checker:
    def __init__(self, workflow: dict, definitions: dict) -> None:
        self.workflow = workflow
        self.definitions = definitions
        self.nodes = {node.get("id"): node for node in workflow.get("nodes", [])}
        self.links = links_by_id(workflow)
        self.found: list[str] = []

    def problem(self, message: str) -> None:
        self.found.append(message)

    def run(self) -> list[str]:
        self.check_document()
        for node in self.workflow.get("nodes", []):
            if node.get("type") not in VIRTUAL_NODES and node.get("type") not in self.definitions:
                self.problem(f"{where(node)}: unknown node type {node.get('type')!r}")
                continue
            self.check_node(node)
        for link in self.links.values():
            self.check_link(link)
        if not self.found:
            self.check_prompt()
        return self.found

    def check_document(self) -> None:
        workflow = self.workflow
        if workflow.get("version") != 0.4:
            self.problem(f"workflow: version is {workflow.get('version')!r}, expected 0.4")
        ids = [node.get("id") for node in workflow.get("nodes", [])]
        if len(set(ids)) != len(ids):
            self.problem(f"workflow: duplicate node ids {sorted({i for i in ids if ids.count(i) > 1})}")
        if ids and workflow.get("last_node_id", -1) < max(ids):
            self.problem(f"workflow: last_node_id {workflow.get('last_node_id')} < largest node id {max(ids)}")
        link_ids = [entry[0] for entry in workflow.get("links", [])]
        if len(set(link_ids)) != len(link_ids):
            self.problem("workflow: duplicate link ids")
        if link_ids and workflow.get("last_link_id", -1) < max(link_ids):
            self.problem(f"workflow: last_link_id {workflow.get('last_link_id')} < largest link id {max(link_ids)}")

    def check_node(self, node: dict) -> None:
        if node.get("mode", 0) not in MODES:
            self.problem(f"{where(node)}: mode {node.get('mode')!r} is not 0 (always), 2 (muted) or 4 (bypassed)")
        kind = node["type"]
        if kind in NOTE_NODES:
            values = node.get("widgets_values")
            if not (isinstance(values, list) and len(values) == 1 and isinstance(values[0], str)):
                self.problem(f"{where(node)}: widgets_values must be [text]")
            return
        if kind == PRIMITIVE_NODE:
            self.check_primitive(node)
            return
        if kind == REROUTE_NODE:
            return
        definition = self.definitions[kind]
        if definition.get("deprecated"):
            self.problem(f"{where(node)}: node type is deprecated")
        for name in custom_widget_inputs(definition):
            self.problem(f"{where(node)} input {name!r}: widget type not modelled by these checks")
        self.check_slots(node, definition)
        if uses_named_widgets(kind):
            self.check_named_widgets(node, definition)
        else:
            self.check_widget_list(node, definition)

    def check_slots(self, node: dict, definition: dict) -> None:
        by_name = {item.name: item for item in sockets(definition)}
        for entry in node.get("inputs") or []:
            item = by_name.get(entry.get("name"))
            if item is None:
                self.problem(f"{where(node)} input {entry.get('name')!r}: no such input")
                continue
            if item.is_widget and entry.get("widget", {}).get("name") != item.name:
                self.problem(f"{where(node)} input {item.name!r}: a widget input needs \"widget\": "
                             f"{{\"name\": {item.name!r}}}")
            if entry.get("type") != item.type:
                self.problem(f"{where(node)} input {item.name!r}: type {entry.get('type')!r}, expected {item.type!r}")
        outputs = node.get("outputs") or []
        expected = definition["output"]
        if len(outputs) != len(expected):
            self.problem(f"{where(node)}: {len(outputs)} outputs, expected {len(expected)}")
        for index, (entry, kind) in enumerate(zip(outputs, expected, strict=False)):
            if entry.get("type") != kind:
                self.problem(f"{where(node)} output {index} ({entry.get('name')!r}): type {entry.get('type')!r}, "
                             f"expected {kind!r}")

    def check_widget_list(self, node: dict, definition: dict) -> None:
        values = node.get("widgets_values", [])
        slots = widget_slots(definition)
        if not isinstance(values, list):
            self.problem(f"{where(node)}: widgets_values must be a list")
            return
        if len(values) != len(slots):
            self.problem(f"{where(node)}: widgets_values has {len(values)} values, expected {len(slots)} "
                         f"({', '.join(slot.label for slot in slots)})")
        for slot, value in zip(slots, values, strict=False):
            reason = (value_problem(slot.input, value) if slot.kind == "value"
                      else helper_problem(slot.kind, slot.input, value))
            if reason:
                self.problem(f"{where(node)} input {slot.label!r}: {reason}")

    def check_named_widgets(self, node: dict, definition: dict) -> None:
        values = node.get("widgets_values")
        if not isinstance(values, dict):
            self.problem(f"{where(node)}: widgets_values must be a dict keyed by widget name (VideoHelperSuite)")
            return
        expected = [item for item in inputs(definition) if item.is_widget]
        if node["type"] == "VHS_VideoCombine":
            expected += format_widgets(definition, values.get("format", ""))
        for item in expected:
            if item.name not in values:
                self.problem(f"{where(node)} input {item.name!r}: missing from widgets_values")
            elif reason := value_problem(item, values[item.name]):
                self.problem(f"{where(node)} input {item.name!r}: {reason}")
        names = {item.name for item in expected}
        for key in values:
            if key not in names and key not in VHS_FRONTEND_KEYS:
                self.problem(f"{where(node)} input {key!r}: no such widget")

    def check_primitive(self, node: dict) -> None:
        outputs = node.get("outputs") or []
        targets = [self.links[i] for i in (outputs[0].get("links") or []) if i in self.links] if outputs else []
        if not targets:
            self.problem(f"{where(node)}: not connected to a widget input")
            return
        values = node.get("widgets_values") or []
        specs = []
        for link in targets:
            target = self.nodes.get(link.target)
            entry = (target.get("inputs") or [])[link.target_slot] if target else None
            definition = self.definitions.get(target["type"]) if target else None
            item = {i.name: i for i in inputs(definition)}.get(entry.get("name")) if definition and entry else None
            if item is None or not item.is_widget:
                self.problem(f"{where(node)}: link {link.id} does not end at a widget input")
                continue
            specs.append(item)
            if reason := value_problem(item, values[0] if values else None):
                self.problem(f"{where(node)} value for node {link.target} input {item.name!r}: {reason}")
        for other in specs[1:]:
            if reason := merge_problem(specs[0], other):
                self.problem(f"{where(node)}: cannot feed both {specs[0].name!r} and {other.name!r}: {reason}")
        if specs:
            item = specs[0]
            helpers = ("control", "filter") if item.type == "COMBO" else ("control",) if item.type in (
                "INT", "FLOAT") else ()
            if len(values) != 1 + len(helpers):
                self.problem(f"{where(node)}: widgets_values has {len(values)} values, expected "
                             f"{1 + len(helpers)} (value{''.join(', ' + h for h in helpers)})")
            for kind, value in zip(helpers, values[1:], strict=False):
                if reason := helper_problem(kind, item, value):
                    self.problem(f"{where(node)} {kind}: {reason}")
            if outputs[0].get("type") != item.type or outputs[0].get("widget", {}).get("name") != item.name:
                self.problem(f"{where(node)}: output must be type {item.type!r} with widget {item.name!r}")

    def output_type(self, node: dict, slot: int, seen: frozenset = frozenset()) -> str | None:
        if node["type"] == REROUTE_NODE and node["id"] not in seen:  # the type of what enters the reroute
            link = self.links.get(((node.get("inputs") or [{}])[0]).get("link"))
            origin = self.nodes.get(link.origin) if link else None
            if origin is not None and (origin["type"] in VIRTUAL_NODES or origin["type"] in self.definitions):
                return self.output_type(origin, link.origin_slot, seen | {node["id"]})
        if node["type"] in (PRIMITIVE_NODE, REROUTE_NODE):
            outputs = node.get("outputs") or []
            return outputs[slot].get("type") if slot < len(outputs) else None
        produced = self.definitions[node["type"]]["output"]
        return produced[slot] if slot < len(produced) else None

    def check_link(self, link) -> None:
        origin, target = self.nodes.get(link.origin), self.nodes.get(link.target)
        if origin is None or target is None:
            self.problem(f"link {link.id}: joins missing node {link.origin if origin is None else link.target}")
            return
        if origin["type"] not in VIRTUAL_NODES and origin["type"] not in self.definitions:
            return
        if target["type"] not in VIRTUAL_NODES and target["type"] not in self.definitions:
            return
        outputs = origin.get("outputs") or []
        if link.origin_slot >= len(outputs) or link.id not in (outputs[link.origin_slot].get("links") or []):
            self.problem(f"link {link.id}: not listed in {where(origin)} output {link.origin_slot}'s links")
        entries = target.get("inputs") or []
        if link.target_slot >= len(entries) or entries[link.target_slot].get("link") != link.id:
            self.problem(f"link {link.id}: {where(target)} input slot {link.target_slot} does not hold it")
            return
        name = entries[link.target_slot].get("name")
        produced = self.output_type(origin, link.origin_slot)
        if produced is None:
            self.problem(f"link {link.id}: {where(origin)} has no output {link.origin_slot}")
            return
        if link.type != produced and produced != "*" and not (origin["type"] == REROUTE_NODE and link.type == "*"):
            self.problem(f"link {link.id}: type {link.type!r} but {where(origin)} output {link.origin_slot} "
                         f"is {produced!r}")
        if target["type"] in VIRTUAL_NODES:
            return
        expected = {item.name: item.type for item in sockets(self.definitions[target["type"]])}.get(name)
        if expected is not None and not connection_allowed(produced, expected):
            self.problem(f"{where(target)} input {name!r}: expects {expected}, but link {link.id} brings "
                         f"{produced} from {where(origin)} output {link.origin_slot}")

    def check_prompt(self) -> None:
        prompt = Converter(self.workflow, self.definitions).prompt()
        for node_id, entry in prompt.items():
            definition = self.definitions[entry["class_type"]]
            for name in definition["input"].get("required", {}):
                if name not in entry["inputs"]:
                    self.problem(f"{where(self.nodes[int(node_id)])} input {name!r}: required input is not "
                                 f"connected (the server rejects the prompt)")


def problems(workflow: dict, definitions: dict) -> list[str]:
    """Every problem of ``workflow`` against ``definitions`` (an ``/object_info`` dict), or [] when none."""
    return Checker(workflow, definitions).run()
