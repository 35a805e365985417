"""The bundled workflows load in ComfyUI's frontend and pass the server's validation, checked without ComfyUI.

Node definitions: ``tests/fixtures/object_info.json`` (ComfyUI 0.3.64 + AnimateDiff-Evolved + Advanced-ControlNet
+ VideoHelperSuite) plus this pack's nodes built from their classes. Every failure mode of the checker is shown
on a small workflow built here and broken on purpose; the problem must name the node id and the input.
"""

from __future__ import annotations

import copy
import importlib
import importlib.machinery
import importlib.util
import json
import logging
from pathlib import Path
from urllib.parse import urlparse

import cv2
import pytest
from workflow_api import to_api
from workflow_builder import Graph
from workflow_check import problems
from workflow_defs import all_definitions, fixture_object_info, inputs, pack_object_info, widget_slots

from benchmarks.quality.flow import flow_sigmas
from temporal_noise import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS
from temporal_noise.nodes.comfy_model import reinit_sigma

WORKFLOWS = sorted((Path(__file__).resolve().parents[1] / "workflows").glob("*.json"))
TITLE_BAR = 30
THUMBNAIL_MAX_BYTES = 60_000
# The models folder each loader lists (ComfyUI's nodes.py, ADE's and ACN's folder names); a loader missing here
# fails the declared-models test, so that its folder is looked up when it is first used.
MODEL_FOLDERS = {
    ("CheckpointLoaderSimple", "ckpt_name"): "checkpoints",
    ("ADE_LoadAnimateDiffModel", "model_name"): "animatediff_models",
    ("ACN_ControlNetLoaderAdvanced", "cnet"): "controlnet",
    ("UNETLoader", "unet_name"): "diffusion_models",
    ("CLIPLoader", "clip_name"): "text_encoders",
    ("VAELoader", "vae_name"): "vae",
}
INPUT_FILES = {("VHS_LoadVideo", "video")}  # the user's own files, not models


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def node_of(workflow: dict, node_type: str) -> dict:
    return next(node for node in workflow["nodes"] if node["type"] == node_type)


def link_of(workflow: dict, target_type: str, input_name: str) -> list:
    target = node_of(workflow, target_type)
    link_id = next(entry["link"] for entry in target["inputs"] if entry["name"] == input_name)
    return next(link for link in workflow["links"] if link[0] == link_id)


# --- the bundled workflows ---------------------------------------------------------------------------------------

def test_workflows_exist():
    assert len(WORKFLOWS) >= 3, "workflows/*.json missing"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_every_check(path):
    assert problems(load(path), all_definitions()) == []


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_explains_itself_in_a_note(path):
    notes = [node["widgets_values"][0] for node in load(path)["nodes"] if node["type"] == "Note"]
    assert notes, f"{path.name} has no Note node"
    text = "\n".join(notes)
    assert len(text) > 300 and "What it shows" in text
    assert any(ext in text for ext in (".ckpt", ".safetensors", ".pth")), "the note names no model file"
    assert "Pick the models first" in text


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_layout_has_no_overlapping_nodes(path):
    """Node boxes, title bars included, do not overlap, so the graph opens tidy."""
    boxes = [(n["id"], n["pos"][0], n["pos"][1] - TITLE_BAR, n["pos"][0] + n["size"][0], n["pos"][1] + n["size"][1])
             for n in load(path)["nodes"]]
    for index, (a, left, top, right, bottom) in enumerate(boxes):
        for b, left2, top2, right2, bottom2 in boxes[index + 1:]:
            assert right <= left2 or right2 <= left or bottom <= top2 or bottom2 <= top, f"nodes {a} and {b} overlap"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_has_a_small_square_thumbnail(path):
    """ComfyUI's template browser shows ``<name>.jpg`` beside the workflow as its thumbnail."""
    thumbnail = path.with_suffix(".jpg")
    assert thumbnail.is_file(), f"{thumbnail.name} missing (python tools/workflows/thumbnails.py)"
    data = thumbnail.read_bytes()
    assert data[:3] == b"\xff\xd8\xff" and len(data) <= THUMBNAIL_MAX_BYTES
    picture = cv2.imread(str(thumbnail))
    assert picture is not None and picture.shape[0] == picture.shape[1] >= 256


def test_workflow_names_are_titles_in_order():
    """The browser's titles are the file names: words, not identifiers, numbered in the order to read them."""
    stems = [path.stem for path in WORKFLOWS]
    assert [stem.split(" ", 1)[0] for stem in stems] == [str(i) for i in range(1, len(stems) + 1)]
    assert all("_" not in stem and len(stem.split()) >= 4 for stem in stems)


def widget_value(node: dict, input_name: str):
    slots = widget_slots(all_definitions()[node["type"]])
    index = next(i for i, s in enumerate(slots) if s.kind == "value" and s.input.name == input_name)
    return node["widgets_values"][index]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_loaders_declare_their_models_for_download(path):
    """Every model a loader selects is in its ``properties.models`` with the loader's folder and a Hugging Face
    URL of that file, as ComfyUI's templates declare them (the frontend offers missing ones for download)."""
    definitions = all_definitions()
    for node in load(path)["nodes"]:
        if node["type"] not in definitions:
            continue
        files = [i.name for i in inputs(definitions[node["type"]]) if i.is_file]
        chosen = {name: widget_value(node, name) for name in files if (node["type"], name) not in INPUT_FILES}
        declared = node["properties"].get("models", [])
        assert len(declared) == len(chosen), f"node {node['id']} ({node['type']}) declares {declared}"
        for name, value in chosen.items():
            assert (node["type"], name) in MODEL_FOLDERS, f"{node['type']}.{name}: add its models folder"
            model = next((m for m in declared if m["name"] == value), None)
            assert model is not None, f"node {node['id']} ({node['type']}): {value} is not declared"
            url = urlparse(model["url"])
            assert model["directory"] == MODEL_FOLDERS[(node["type"], name)]
            assert url.scheme == "https" and url.netloc == "huggingface.co" and "/resolve/" in url.path
            assert url.path.endswith(f"/{value}"), model["url"]


def test_wan22_split_workflow_renoises_inside_the_high_noise_part():
    """The Wan 2.2 workflow gives Noise Reinit the high-noise part of its split schedule: the level keep_percent
    sets must lie inside that part, or Noise Reinit refuses the run. Computed from the workflow's own shift, steps
    and hand-over step on ComfyUI's simple schedule (the flow default, 30 %, lies below the hand-over)."""
    workflow = load(next(path for path in WORKFLOWS if "two-model split" in path.name))
    nodes = [node for node in workflow["nodes"] if node["type"] in ("ModelSamplingSD3", "TemporalNoiseNoiseReinit")]
    (shift,) = {widget_value(node, "shift") for node in nodes if node["type"] == "ModelSamplingSD3"}
    scheduler = node_of(workflow, "BasicScheduler")
    assert (widget_value(scheduler, "scheduler"), widget_value(scheduler, "denoise")) == ("simple", 1.0)
    sigmas = flow_sigmas(widget_value(scheduler, "steps"), shift)
    high = sigmas[:widget_value(node_of(workflow, "SplitSigmas"), "step") + 1]
    reinits = [node for node in nodes if node["type"] == "TemporalNoiseNoiseReinit"]
    assert reinits
    for node in reinits:
        level = reinit_sigma(high[0], "flow", widget_value(node, "keep_percent"))
        assert high[-1] < level < high[0], f"node {node['id']}: level {level} outside the high part {high}"


def test_workflows_use_every_node_of_the_pack():
    used = {node["type"] for path in WORKFLOWS for node in load(path)["nodes"]}
    assert set(NODE_CLASS_MAPPINGS) <= used, f"no workflow shows {sorted(set(NODE_CLASS_MAPPINGS) - used)}"


# --- node definitions ---------------------------------------------------------------------------------------------

def test_pack_entries_have_the_servers_shape_and_comfyuis_sampler_choices():
    fixture = fixture_object_info()
    ours = pack_object_info(fixture)
    assert set(ours) == set(NODE_CLASS_MAPPINGS)
    for name, entry in ours.items():
        assert set(entry) <= set(fixture["KSampler"]) | {"output_tooltips"}, name
        assert entry["input_order"]["required"] == list(entry["input"]["required"])
        assert len(entry["output"]) == len(entry["output_name"]) == len(entry["output_is_list"])
    sampler = ours["TemporalNoiseFreeInitSampler"]["input"]["required"]
    ksampler = fixture["KSampler"]["input"]["required"]
    assert sampler["sampler_name"][0] == ksampler["sampler_name"][0]
    assert sampler["scheduler"][0] == ksampler["scheduler"][0]


def test_widget_order_follows_input_order_with_helper_values():
    definitions = all_definitions()
    assert [s.label for s in widget_slots(definitions["KSampler"])] == [
        "seed", "seed (control)", "steps", "cfg", "sampler_name", "scheduler", "denoise"]
    assert [s.label for s in widget_slots(definitions["LoadImage"])] == ["image", "image (upload)"]
    assert [s.label for s in widget_slots(definitions["RandomNoise"])] == ["noise_seed", "noise_seed (control)"]
    # optional widgets come after the required ones
    assert [s.label for s in widget_slots(definitions["CLIPLoader"])] == ["clip_name", "type", "device"]


def test_freeinit_sampler_widgets_default_to_ksamplers():
    """Swapping KSampler for FreeInit Sampler keeps the shared widgets' defaults (seed, steps, cfg, denoise)."""
    ksampler = fixture_object_info()["KSampler"]["input"]["required"]
    sampler = pack_object_info(fixture_object_info())["TemporalNoiseFreeInitSampler"]["input"]["required"]
    for name in ("seed", "steps", "cfg", "denoise"):
        assert sampler[name][1]["default"] == ksampler[name][1]["default"], name


def test_every_node_has_a_display_name():
    assert set(NODE_DISPLAY_NAME_MAPPINGS) == set(NODE_CLASS_MAPPINGS)
    assert all(name and not name.startswith("TemporalNoise") for name in NODE_DISPLAY_NAME_MAPPINGS.values())


def test_a_node_module_that_fails_to_import_disables_only_its_nodes(monkeypatch, caplog):
    """Any import error (not only a missing module) of one node module is logged and the other nodes load."""
    real_import = importlib.import_module

    def failing_import(name, package=None):
        if name == ".optical_flow":
            raise AttributeError("module 'cv2' has no attribute 'DISOpticalFlow_create'")
        return real_import(name, package)

    monkeypatch.setattr(importlib, "import_module", failing_import)
    path = Path(__file__).resolve().parents[1] / "nodes" / "__init__.py"
    spec = importlib.util.spec_from_file_location("temporal_noise.nodes", path)
    module = importlib.util.module_from_spec(spec)
    with caplog.at_level(logging.ERROR):
        spec.loader.exec_module(module)
    assert set(module.NODE_CLASS_MAPPINGS) == set(NODE_CLASS_MAPPINGS) - {"TemporalNoiseOpticalFlow"}
    assert "nodes of optical_flow.py are disabled: AttributeError" in caplog.text


def test_pack_root_imports_without_a_package():
    """pytest may import the pack's __init__.py on its own (a folder name with dashes): no error, no nodes."""
    path = Path(__file__).resolve().parents[1] / "__init__.py"
    loader = importlib.machinery.SourceFileLoader("pack_root_alone", str(path))
    spec = importlib.util.spec_from_loader("pack_root_alone", loader, is_package=False)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert not hasattr(module, "NODE_CLASS_MAPPINGS")


# --- a small valid workflow, then broken on purpose --------------------------------------------------------------

def small_workflow() -> dict:
    """Checkpoint → prompts → FreeInit Sampler (with a filter) → decode → VHS Video Combine."""
    graph = Graph(all_definitions())
    checkpoint = graph.add("CheckpointLoaderSimple", (0, 0), {"ckpt_name": "sd15.safetensors"})
    positive = graph.add("CLIPTextEncode", (400, 0), {"text": "a fox"})
    negative = graph.add("CLIPTextEncode", (400, 300), {"text": "blurry"})
    latent = graph.add("EmptyLatentImage", (400, 600), {"width": 64, "height": 64, "batch_size": 8})
    lowpass = graph.add("TemporalNoiseFrequencyFilter", (0, 300))
    sampler = graph.add("TemporalNoiseFreeInitSampler", (800, 0), {"seed": 7, "steps": 4})
    decode = graph.add("VAEDecode", (1200, 0))
    video = graph.add("VHS_VideoCombine", (1200, 200), {"format": "video/h264-mp4"})
    graph.link(checkpoint, "MODEL", sampler, "model")
    graph.link(checkpoint, "CLIP", positive, "clip")
    graph.link(checkpoint, "CLIP", negative, "clip")
    graph.link(positive, 0, sampler, "positive")
    graph.link(negative, 0, sampler, "negative")
    graph.link(latent, 0, sampler, "latent_image")
    graph.link(lowpass, "filter", sampler, "filter")
    graph.link(sampler, "latent", decode, "samples")
    graph.link(checkpoint, "VAE", decode, "vae")
    graph.link(decode, 0, video, "images")
    return graph.to_json("small")


def problems_after(change) -> list[str]:
    workflow = copy.deepcopy(small_workflow())
    assert problems(workflow, all_definitions()) == []
    change(workflow)
    return problems(workflow, all_definitions())


def assert_named(found: list[str], *fragments: str) -> None:
    assert any(all(f in problem for f in fragments) for problem in found), f"{fragments} not in {found}"


def sampler_values(workflow: dict) -> list:
    return node_of(workflow, "TemporalNoiseFreeInitSampler")["widgets_values"]


def sampler_id(workflow: dict) -> int:
    return node_of(workflow, "TemporalNoiseFreeInitSampler")["id"]


def test_unknown_node_type_is_named():
    def rename(workflow):
        node_of(workflow, "CLIPTextEncode")["type"] = "CLIPTextEncodeTypo"
    assert_named(problems_after(rename), "node 2 (CLIPTextEncodeTypo)", "unknown node type")


def test_link_type_mismatch_names_node_and_input():
    def model_into_latent(workflow):
        link = link_of(workflow, "TemporalNoiseFreeInitSampler", "latent_image")
        checkpoint = node_of(workflow, "CheckpointLoaderSimple")
        node_of(workflow, "EmptyLatentImage")["outputs"][0]["links"].remove(link[0])
        checkpoint["outputs"][0]["links"].append(link[0])
        link[1], link[2], link[5] = checkpoint["id"], 0, "MODEL"
    found = problems_after(model_into_latent)
    assert_named(found, "node 6 (TemporalNoiseFreeInitSampler) input 'latent_image'", "expects LATENT", "brings MODEL")


def test_custom_type_mismatch_on_our_filter_input():
    def image_into_filter(workflow):
        link = link_of(workflow, "TemporalNoiseFreeInitSampler", "filter")
        link[2], link[5] = 1, "IMAGE"  # the Frequency Filter's preview instead of its filter
        lowpass = node_of(workflow, "TemporalNoiseFrequencyFilter")
        lowpass["outputs"][0]["links"].remove(link[0])
        lowpass["outputs"][1]["links"].append(link[0])
    assert_named(problems_after(image_into_filter), "input 'filter'", "expects FREEINIT_FILTER", "brings IMAGE")


def test_recorded_link_type_must_be_the_output_type():
    def relabel(workflow):
        link_of(workflow, "TemporalNoiseFreeInitSampler", "latent_image")[5] = "IMAGE"
    assert_named(problems_after(relabel), "type 'IMAGE'", "node 4 (EmptyLatentImage) output 0 is 'LATENT'")


def reroute_between(workflow: dict, target_type: str, input_name: str, reroute_type: str = "*") -> None:
    """Put a Reroute node on the link into ``target_type.input_name``."""
    link = link_of(workflow, target_type, input_name)
    reroute_id, new_link = workflow["last_node_id"] + 1, workflow["last_link_id"] + 1
    workflow["nodes"].append({"id": reroute_id, "type": "Reroute", "pos": [600, 900], "size": [75, 26],
                              "mode": 0, "inputs": [{"name": "", "type": "*", "link": link[0]}],
                              "outputs": [{"name": "", "type": reroute_type, "links": [new_link]}],
                              "properties": {"showOutputText": False, "horizontal": False}})
    target = node_of(workflow, target_type)
    entry = next(e for e in target["inputs"] if e["name"] == input_name)
    entry["link"] = new_link
    workflow["links"].append([new_link, reroute_id, 0, link[3], link[4], reroute_type])
    link[3], link[4] = reroute_id, 0
    workflow["last_node_id"], workflow["last_link_id"] = reroute_id, new_link


def test_star_rules_look_through_reroutes():
    def wildcard_reroute(workflow):
        reroute_between(workflow, "TemporalNoiseFreeInitSampler", "model")
    assert problems_after(wildcard_reroute) == []

    def reroute_into_wrong_input(workflow):
        reroute_between(workflow, "TemporalNoiseFreeInitSampler", "latent_image")
        into_reroute = link_of(workflow, "Reroute", "")
        node_of(workflow, "EmptyLatentImage")["outputs"][0]["links"].remove(into_reroute[0])
        node_of(workflow, "CheckpointLoaderSimple")["outputs"][0]["links"].append(into_reroute[0])
        into_reroute[1], into_reroute[2], into_reroute[5] = 1, 0, "MODEL"  # a MODEL reaches it through the '*'
    found = problems_after(reroute_into_wrong_input)
    assert_named(found, "input 'latent_image'", "expects LATENT", "brings MODEL")


def test_star_input_accepts_any_type():
    workflow = small_workflow()
    graph_definitions = all_definitions()
    assert graph_definitions["VHS_Unbatch"]["input"]["required"]["batched"][0] == "*"
    unbatch_id, link_id = workflow["last_node_id"] + 1, workflow["last_link_id"] + 1
    workflow["nodes"].append({"id": unbatch_id, "type": "VHS_Unbatch", "pos": [0, 1200], "size": [315, 60],
                              "mode": 0, "inputs": [{"name": "batched", "type": "*", "link": link_id}],
                              "outputs": [{"name": "unbatched", "type": "*", "links": []}],
                              "widgets_values": {}})
    node_of(workflow, "EmptyLatentImage")["outputs"][0]["links"].append(link_id)
    workflow["links"].append([link_id, 4, 0, unbatch_id, 0, "LATENT"])
    workflow["last_node_id"], workflow["last_link_id"] = unbatch_id, link_id
    assert problems(workflow, graph_definitions) == []


def test_link_bookkeeping_must_agree_on_both_nodes():
    def forget(workflow):
        node_of(workflow, "EmptyLatentImage")["outputs"][0]["links"] = []
    assert_named(problems_after(forget), "link 6", "node 4 (EmptyLatentImage) output 0")


def test_missing_seed_control_value_is_a_count_problem():
    def drop_control(workflow):
        del sampler_values(workflow)[1]
    found = problems_after(drop_control)
    assert_named(found, "node 6 (TemporalNoiseFreeInitSampler)", "widgets_values has 9 values, expected 10",
                 "seed, seed (control), steps")


def test_values_out_of_order_are_named():
    def swap_steps_and_cfg(workflow):
        values = sampler_values(workflow)
        values[2], values[3] = 7.5, 4  # steps gets the cfg value
    assert_named(problems_after(swap_steps_and_cfg), "node 6 (TemporalNoiseFreeInitSampler) input 'steps'",
                 "7.5 is not an integer")

    def swap_sampler_and_scheduler(workflow):
        values = sampler_values(workflow)
        values[4], values[5] = values[5], values[4]
    found = problems_after(swap_sampler_and_scheduler)
    assert_named(found, "input 'sampler_name'", "'simple' is not one of")
    assert_named(found, "input 'scheduler'", "'euler' is not one of")


def test_control_value_must_be_a_mode():
    def number_as_control(workflow):
        sampler_values(workflow)[1] = 20
    assert_named(problems_after(number_as_control), "input 'seed (control)'", "not a control_after_generate mode")


def test_values_outside_ranges_are_named():
    def out_of_range(workflow):
        values = sampler_values(workflow)
        values[2], values[6], values[7] = 0, 1.5, -1  # steps, denoise, iterations
    found = problems_after(out_of_range)
    assert_named(found, "node 6 (TemporalNoiseFreeInitSampler) input 'steps'", "below the minimum 1")
    assert_named(found, "node 6 (TemporalNoiseFreeInitSampler) input 'denoise'", "above the maximum 1.0")
    assert_named(found, "node 6 (TemporalNoiseFreeInitSampler) input 'iterations'", "below the minimum 0")


def test_values_outside_choice_lists_and_steps_are_named():
    def bad_choices(workflow):
        node_of(workflow, "TemporalNoiseFrequencyFilter")["widgets_values"][0] = "triangle"
        node_of(workflow, "EmptyLatentImage")["widgets_values"][0] = 500
        sampler_values(workflow)[8] = "yes"  # coarse_to_fine
    found = problems_after(bad_choices)
    assert_named(found, "node 5 (TemporalNoiseFrequencyFilter) input 'filter_type'", "'triangle' is not one of")
    assert_named(found, "node 4 (EmptyLatentImage) input 'width'", "not on the widget's step of 8")
    assert_named(found, "input 'coarse_to_fine'", "not a boolean")


def test_model_file_names_must_look_like_files():
    def no_file(workflow):
        node_of(workflow, "CheckpointLoaderSimple")["widgets_values"][0] = ""
    assert_named(problems_after(no_file), "node 1 (CheckpointLoaderSimple) input 'ckpt_name'", "not a file name")


def test_videohelpersuite_dict_widgets_are_checked_by_name():
    def break_dict(workflow):
        values = node_of(workflow, "VHS_VideoCombine")["widgets_values"]
        del values["loop_count"]
        values["crf"] = 500
        values["speed"] = 2
    found = problems_after(break_dict)
    assert_named(found, "node 8 (VHS_VideoCombine) input 'loop_count'", "missing")
    assert_named(found, "node 8 (VHS_VideoCombine) input 'crf'", "above the maximum 100")
    assert_named(found, "node 8 (VHS_VideoCombine) input 'speed'", "no such widget")

    def list_instead(workflow):
        node = node_of(workflow, "VHS_VideoCombine")
        node["widgets_values"] = list(node["widgets_values"].values())
    assert_named(problems_after(list_instead), "node 8 (VHS_VideoCombine)", "dict keyed by widget name")


def test_unconnected_required_input_is_named():
    def disconnect(workflow):
        link = link_of(workflow, "VAEDecode", "vae")
        workflow["links"].remove(link)
        node_of(workflow, "CheckpointLoaderSimple")["outputs"][2]["links"].remove(link[0])
        next(e for e in node_of(workflow, "VAEDecode")["inputs"] if e["name"] == "vae")["link"] = None
    assert_named(problems_after(disconnect), "node 7 (VAEDecode) input 'vae'", "required input is not connected")


def test_deprecated_node_is_named():
    def old_node(workflow):
        node = node_of(workflow, "EmptyLatentImage")
        node["type"] = "ControlNetApply"
    assert_named(problems_after(old_node), "node 4 (ControlNetApply)", "deprecated")


def test_primitive_value_is_checked_against_its_widgets():
    def primitive_seed(workflow):
        add_seed_primitive(workflow, -5)
    assert_named(problems_after(primitive_seed), "node 9 (PrimitiveNode) value for node 6 input 'seed'",
                 "below the minimum 0")


def add_seed_primitive(workflow: dict, value) -> None:
    """A PrimitiveNode feeding FreeInit Sampler's seed widget (the widget becomes an input)."""
    primitive_id, link_id = workflow["last_node_id"] + 1, workflow["last_link_id"] + 1
    workflow["nodes"].append({"id": primitive_id, "type": "PrimitiveNode", "pos": [800, 900], "size": [315, 82],
                              "mode": 0, "outputs": [{"name": "INT", "type": "INT", "links": [link_id],
                                                      "widget": {"name": "seed"}}],
                              "properties": {"Run widget replace on values": False},
                              "widgets_values": [value, "fixed"]})
    sampler = node_of(workflow, "TemporalNoiseFreeInitSampler")
    sampler["inputs"].append({"name": "seed", "type": "INT", "link": link_id, "widget": {"name": "seed"}})
    workflow["links"].append([link_id, primitive_id, 0, sampler["id"], len(sampler["inputs"]) - 1, "INT"])
    workflow["last_node_id"], workflow["last_link_id"] = primitive_id, link_id


# --- the converter -------------------------------------------------------------------------------------------------

def test_converter_writes_what_the_frontend_queues():
    workflow = small_workflow()
    add_seed_primitive(workflow, 1234)
    reroute_between(workflow, "TemporalNoiseFreeInitSampler", "model")
    workflow["nodes"].append({"id": 99, "type": "Note", "pos": [0, 1500], "size": [300, 100], "mode": 0,
                              "properties": {}, "widgets_values": ["hello"]})
    workflow["last_node_id"] = 99
    assert problems(workflow, all_definitions()) == []
    prompt = to_api(workflow, all_definitions())
    assert set(prompt) == {"1", "2", "3", "4", "5", "6", "7", "8"}  # no primitive, reroute or note
    assert prompt["6"] == {
        "class_type": "TemporalNoiseFreeInitSampler", "_meta": {"title": "FreeInit Sampler"},
        "inputs": {"seed": 1234, "steps": 4, "cfg": 8.0, "sampler_name": "euler", "scheduler": "simple",
                   "denoise": 1.0, "iterations": 0, "coarse_to_fine": False, "keep_percent": 0.0,
                   "model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["4", 0],
                   "filter": ["5", 0]}}
    assert prompt["8"]["inputs"] == {"images": ["7", 0], "frame_rate": 8, "loop_count": 0,
                                     "filename_prefix": "AnimateDiff", "format": "video/h264-mp4",
                                     "pingpong": False, "save_output": True, "pix_fmt": "yuv420p", "crf": 19,
                                     "save_metadata": True, "trim_to_audio": False}
    assert prompt["1"]["inputs"] == {"ckpt_name": "sd15.safetensors"}


def test_converter_passes_through_bypassed_and_drops_muted_nodes():
    workflow = small_workflow()
    graph = Graph(all_definitions())
    upscale = graph.add("LatentUpscaleBy", (400, 900))
    upscale_id, link_id = workflow["last_node_id"] + 1, workflow["last_link_id"] + 1
    node = {"id": upscale_id, "type": "LatentUpscaleBy", "pos": [400, 900], "size": list(upscale.size),
            "mode": 4, "inputs": [{"name": "samples", "type": "LATENT", "link": None}],
            "outputs": [{"name": "LATENT", "type": "LATENT", "links": []}], "widgets_values": upscale.widgets_values}
    workflow["nodes"].append(node)
    # EmptyLatentImage → LatentUpscaleBy (bypassed) → FreeInit Sampler
    latent_link = link_of(workflow, "TemporalNoiseFreeInitSampler", "latent_image")
    latent_link[1], latent_link[2] = upscale_id, 0
    node["outputs"][0]["links"].append(latent_link[0])
    node_of(workflow, "EmptyLatentImage")["outputs"][0]["links"] = [link_id]
    node["inputs"][0]["link"] = link_id
    workflow["links"].append([link_id, 4, 0, upscale_id, 0, "LATENT"])
    workflow["last_node_id"], workflow["last_link_id"] = upscale_id, link_id
    assert problems(workflow, all_definitions()) == []
    prompt = to_api(workflow, all_definitions())
    assert str(upscale_id) not in prompt
    assert prompt["6"]["inputs"]["latent_image"] == ["4", 0]

    node_of(workflow, "TemporalNoiseFrequencyFilter")["mode"] = 2  # muted: gone, and so is the link from it
    prompt = to_api(workflow, all_definitions())
    assert "5" not in prompt and "filter" not in prompt["6"]["inputs"]


def test_a_dynamic_combo_sends_its_choice_and_its_options_inputs():
    """ComfyUI 0.33's core SaveVideo: ``format`` is a V3 dynamic combo whose options each bring a ``codec``
    combo; the frontend sends ``format`` and ``format.codec`` (a workflow saved on 0.3.64, where both were
    plain combos, keeps its three widget values), and not the node's hidden top-level ``codec``."""
    h264 = {"key": "h264", "inputs": {"optional": {"encoding": ["STRING"]}}}
    codec = ["COMFY_DYNAMICCOMBO_V3", {"options": [{"key": "auto", "inputs": {}}, h264]}]
    formats = [{"key": key, "inputs": {"required": {"codec": codec}}} for key in ("auto", "mp4")]
    definition = {"name": "SaveVideo", "output": ["VIDEO"],
                  "input": {"required": {"video": ["VIDEO"], "filename_prefix": ["STRING", {}],
                                         "format": ["COMFY_DYNAMICCOMBO_V3", {"options": formats}]},
                            "optional": {"codec": codec}},
                  "input_order": {"required": ["video", "filename_prefix", "format"], "optional": ["codec"]}}
    node = {"id": 1, "type": "SaveVideo", "inputs": [{"name": "video", "type": "VIDEO", "link": None}],
            "widgets_values": ["video/out", "auto", "auto"]}
    prompt = to_api({"nodes": [node], "links": []}, {"SaveVideo": definition})
    assert prompt["1"]["inputs"] == {"filename_prefix": "video/out", "format": "auto", "format.codec": "auto"}
