"""Write the pack's example workflows ``workflows/*.json`` (run: ``python tests/build_workflows.py``).

Each workflow is built from the node definitions (tests/workflow_defs.py) so slots, widget order and links are
what the ComfyUI frontend saves; ``tests/test_workflows.py`` then checks the files independently of this script.
Edit a workflow here and rebuild, or edit it in ComfyUI and save it over the file: the checks hold either way.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from standalone import load_pack  # noqa: E402

load_pack()

from workflow_builder import Graph, Node  # noqa: E402
from workflow_defs import all_definitions  # noqa: E402

WORKFLOWS_DIR = HERE.parent / "workflows"
GAP = 70  # vertical space between stacked nodes (their title bars are 30 px)

SD15_CHECKPOINT = "v1-5-pruned-emaonly-fp16.safetensors"
MOTION_MODULE = "v3_sd15_mm.ckpt"
CANNY_CONTROLNET = "control_v11p_sd15_canny.pth"
INPUT_VIDEO = "input_video.mp4"
POSITIVE = ("a red fox trotting through fresh snow in a pine forest, soft morning light, highly detailed, "
            "cinematic, smooth motion")
NEGATIVE = "blurry, low quality, watermark, text, deformed, flicker"
SIZE = 512
FRAMES = 16
SEED = 42
STEPS = 25
CFG = 7.5
SAMPLER = "ddim"
SCHEDULER = "ddim_uniform"
VIDEO = {"frame_rate": 8, "format": "video/h264-mp4", "pix_fmt": "yuv420p", "crf": 19}
LATENT = {"width": SIZE, "height": SIZE, "batch_size": FRAMES}
SAMPLING = {"seed": SEED, "steps": STEPS, "cfg": CFG, "sampler_name": SAMPLER, "scheduler": SCHEDULER}


class Column:
    """Stack nodes top to bottom at one x, leaving room for each node's title bar."""

    def __init__(self, graph: Graph, x: float, y: float = 0, width: float = 315) -> None:
        self.graph, self.x, self.y, self.width = graph, x, y, width

    def add(self, node_type: str, widgets: dict | None = None, *, width: float | None = None,
            height: float | None = None, title: str | None = None) -> Node:
        node = self.graph.add(node_type, (self.x, self.y), widgets, width=width or self.width, height=height,
                              title=title)
        self.y = node.bottom + GAP
        return node

    def note(self, text: str, height: float, width: float | None = None, title: str = "Note") -> Node:
        node = self.graph.note(text, (self.x, self.y), (width or self.width, height), title)
        self.y = node.bottom + GAP
        return node


def animatediff_models(graph: Graph, column: Column) -> tuple[Node, Node]:
    """SD1.5 checkpoint + AnimateDiff motion module (ADE Gen2): returns (checkpoint, evolved-sampling model)."""
    checkpoint = column.add("CheckpointLoaderSimple", {"ckpt_name": SD15_CHECKPOINT})
    motion = column.add("ADE_LoadAnimateDiffModel", {"model_name": MOTION_MODULE})
    apply = column.add("ADE_ApplyAnimateDiffModelSimple")
    evolved = column.add("ADE_UseEvolvedSampling", {"beta_schedule": "autoselect"})
    graph.link(motion, 0, apply, "motion_model")
    graph.link(checkpoint, "MODEL", evolved, "model")
    graph.link(apply, 0, evolved, "m_models")
    return checkpoint, evolved


def prompts(graph: Graph, column: Column, checkpoint: Node) -> tuple[Node, Node]:
    positive = column.add("CLIPTextEncode", {"text": POSITIVE}, width=400, title="Positive prompt")
    negative = column.add("CLIPTextEncode", {"text": NEGATIVE}, width=400, title="Negative prompt")
    for node in (positive, negative):
        graph.link(checkpoint, "CLIP", node, "clip")
    return positive, negative


def save_video(graph: Graph, column: Column, checkpoint: Node, latent: Node, output: int | str, prefix: str,
               title: str) -> Node:
    decode = column.add("VAEDecode", width=210)
    graph.link(latent, output, decode, "samples")
    graph.link(checkpoint, "VAE", decode, "vae")
    combine = column.add("VHS_VideoCombine", {"filename_prefix": prefix, **VIDEO}, width=360, title=title)
    graph.link(decode, 0, combine, "images")
    return combine


NOTE_T2V = """FreeInit text-to-video with AnimateDiff

What it shows: the FreeInit Sampler in place of KSampler. After each pass the video is diffused back to \
noise with the same initial noise; its low spatio-temporal frequencies are kept and the high ones \
replaced by fresh noise, then it is sampled again (Wu et al. 2023). The second video puts every pass side \
by side (pass 1 = plain AnimateDiff, on the left) so you can see the temporal consistency improve.

Models to pick:
- Load Checkpoint: any SD1.5 checkpoint (v1-5-pruned-emaonly-fp16, Realistic Vision, DreamShaper 8, ...).
- Load AnimateDiff Model: the AnimateDiff v3 motion module v3_sd15_mm.ckpt, or v2 mm_sd_v15_v2.ckpt \
(models/animatediff_models).

Settings: the paper's defaults (5 passes, gaussian filter d_s = d_t = 0.25 from the Frequency Filter). \
coarse_to_fine = true runs fewer steps in the early passes (5 passes of 25 steps cost 75 instead of 125). \
Keep AnimateDiff's sample settings default and do not add ADE's own FreeInit iteration options with this \
node. 16 frames at 512x512 fit AnimateDiff's context; for longer videos add context options."""


def text_to_video() -> Graph:
    graph = Graph(all_definitions())
    models = Column(graph, 0)
    checkpoint, model = animatediff_models(graph, models)
    text = Column(graph, 380, width=400)
    positive, negative = prompts(graph, text, checkpoint)
    text.note(NOTE_T2V, 420, width=400)
    setup = Column(graph, 850)
    latent = setup.add("EmptyLatentImage", LATENT)
    lowpass = setup.add("FreeInitFrequencyFilter")
    preview = setup.add("PreviewImage", title="Filter: white = kept from the previous pass", height=300)
    graph.link(lowpass, "preview", preview, "images")
    sampling = Column(graph, 1230)
    sampler = sampling.add("FreeInitSampler", SAMPLING)
    graph.link(model, 0, sampler, "model")
    graph.link(positive, 0, sampler, "positive")
    graph.link(negative, 0, sampler, "negative")
    graph.link(latent, 0, sampler, "latent_image")
    graph.link(lowpass, "filter", sampler, "filter")
    outputs = Column(graph, 1610, width=360)
    save_video(graph, outputs, checkpoint, sampler, "latent", "TemporalNoise/freeinit_t2v", "FreeInit result")
    outputs = Column(graph, 2040, width=360)
    save_video(graph, outputs, checkpoint, sampler, "all_iterations", "TemporalNoise/freeinit_t2v_passes",
               "Every pass side by side")
    return graph


NOTE_CONTROLNET = """FreeInit + ControlNet (AnimateDiff video-to-video motion control)

What it shows: FreeInit keeps working when the conditioning carries a ControlNet: the canny edges of \
every frame of your video steer AnimateDiff (Advanced-ControlNet applies the hint batch frame by frame), \
and the FreeInit Sampler's passes smooth what flickers. Both videos: the result, and every pass side by side.

Pick:
- Load Video: your clip (16 frames are loaded at 8 fps, resized to 512x512; Empty Latent's batch follows \
the frame count).
- Load Checkpoint: any SD1.5 checkpoint.
- Load AnimateDiff Model: v3_sd15_mm.ckpt (or mm_sd_v15_v2.ckpt).
- Load Advanced ControlNet Model: control_v11p_sd15_canny.pth (for other hints swap the Canny node for \
a preprocessor and pick e.g. control_v11f1p_sd15_depth or control_v11p_sd15_openpose).

ControlNet strength 0.8 leaves AnimateDiff room for motion; FreeInit uses 3 passes with a butterworth \
filter (n = 4), the authors' demo setting."""


def controlnet_video() -> Graph:
    graph = Graph(all_definitions())
    models = Column(graph, 0)
    checkpoint, model = animatediff_models(graph, models)
    controlnet = models.add("ACN_ControlNetLoaderAdvanced", {"cnet": CANNY_CONTROLNET})
    text = Column(graph, 380, width=400)
    positive, negative = prompts(graph, text, checkpoint)
    text.note(NOTE_CONTROLNET, 440, width=400)
    source = Column(graph, 850)
    video = source.add("VHS_LoadVideo", {"video": INPUT_VIDEO, "force_rate": 8, "custom_width": SIZE,
                                         "custom_height": SIZE, "frame_load_cap": FRAMES})
    edges = source.add("Canny")
    graph.link(video, "IMAGE", edges, "image")
    hints = source.add("PreviewImage", title="Control hints", height=300)
    graph.link(edges, 0, hints, "images")
    control = Column(graph, 1230)
    apply = control.add("ACN_AdvancedControlNetApply_v2", {"strength": 0.8})
    graph.link(positive, 0, apply, "positive")
    graph.link(negative, 0, apply, "negative")
    graph.link(controlnet, 0, apply, "control_net")
    graph.link(edges, 0, apply, "image")
    latent = control.add("EmptyLatentImage", LATENT)
    graph.link(video, "frame_count", latent, "batch_size")
    lowpass = control.add("FreeInitFrequencyFilter", {"filter_type": "butterworth"})
    sampling = Column(graph, 1610)
    sampler = sampling.add("FreeInitSampler", {**SAMPLING, "iterations": 3})
    graph.link(model, 0, sampler, "model")
    graph.link(apply, "positive", sampler, "positive")
    graph.link(apply, "negative", sampler, "negative")
    graph.link(latent, 0, sampler, "latent_image")
    graph.link(lowpass, "filter", sampler, "filter")
    outputs = Column(graph, 1990, width=360)
    save_video(graph, outputs, checkpoint, sampler, "latent", "TemporalNoise/freeinit_controlnet",
               "FreeInit + ControlNet result")
    outputs = Column(graph, 2420, width=360)
    save_video(graph, outputs, checkpoint, sampler, "all_iterations", "TemporalNoise/freeinit_controlnet_passes",
               "Every pass side by side")
    return graph


NOTE_BY_HAND = """FreeInit built by hand: 3 passes with SamplerCustomAdvanced

What it shows: the FreeInit loop as separate nodes. Pass 1 samples from RandomNoise; Noise Reinit takes \
its result, re-noises it to the first sigma of the next pass with the same initial noise, keeps the low \
frequencies (the Frequency Filter's white area) and takes the high ones from fresh noise; the next \
SamplerCustomAdvanced starts from that NOISE. Two reinitialisations give the same result as the FreeInit \
Sampler with iterations = 3, seed 42 and the same filter.

The seed primitive feeds RandomNoise and both Noise Reinit nodes: keep them equal, and set Noise \
Reinit's iteration to 1, 2, ... along the chain. Both Frequency Filters are shown: butterworth n = 4 \
(used, the authors' demo) and gaussian d_s = d_t = 0.25 (the paper's default) for comparison.

Pick: an SD1.5 checkpoint and the AnimateDiff motion module v3_sd15_mm.ckpt (or mm_sd_v15_v2.ckpt). \
The two videos are pass 1 (plain AnimateDiff) and pass 3."""


def freeinit_by_hand() -> Graph:
    graph = Graph(all_definitions())
    models = Column(graph, 0)
    checkpoint, model = animatediff_models(graph, models)
    text = Column(graph, 380, width=400)
    positive, negative = prompts(graph, text, checkpoint)
    text.note(NOTE_BY_HAND, 470, width=400)
    parts = Column(graph, 850)
    seed = graph.primitive("INT", SEED, (parts.x, parts.y), "seed")
    parts.y = seed.bottom + GAP
    noise = parts.add("RandomNoise", {"noise_seed": SEED})
    guider = parts.add("CFGGuider", {"cfg": CFG})
    select = parts.add("KSamplerSelect", {"sampler_name": SAMPLER})
    sigmas = parts.add("BasicScheduler", {"scheduler": SCHEDULER, "steps": STEPS})
    latent = parts.add("EmptyLatentImage", LATENT)
    graph.link(seed, 0, noise, "noise_seed")
    graph.link(model, 0, guider, "model")
    graph.link(positive, 0, guider, "positive")
    graph.link(negative, 0, guider, "negative")
    graph.link(model, 0, sigmas, "model")
    filters = Column(graph, 1230)
    used = filters.add("FreeInitFrequencyFilter", {"filter_type": "butterworth"}, title="Frequency Filter (used)")
    used_preview = filters.add("PreviewImage", title="butterworth n = 4", height=260)
    paper = filters.add("FreeInitFrequencyFilter", title="Frequency Filter (paper default)")
    paper_preview = filters.add("PreviewImage", title="gaussian 0.25 / 0.25", height=260)
    graph.link(used, "preview", used_preview, "images")
    graph.link(paper, "preview", paper_preview, "images")

    def sample(column: Column, start: Node, title: str) -> Node:
        node = column.add("SamplerCustomAdvanced", title=title)
        graph.link(start, 0, node, "noise")
        graph.link(guider, 0, node, "guider")
        graph.link(select, 0, node, "sampler")
        graph.link(sigmas, 0, node, "sigmas")
        graph.link(latent, 0, node, "latent_image")
        return node

    def reinit(column: Column, previous: Node, iteration: int) -> Node:
        node = column.add("FreeInitNoiseReinit", {"seed": SEED, "iteration": iteration},
                          title=f"Noise Reinit {iteration}")
        graph.link(model, 0, node, "model")
        graph.link(previous, "output", node, "samples")
        graph.link(sigmas, 0, node, "sigmas")
        graph.link(seed, 0, node, "seed")
        graph.link(used, "filter", node, "filter")
        graph.link(latent, 0, node, "latent_image")
        graph.link(noise, 0, node, "initial_noise")
        return node

    columns = [Column(graph, 1610 + 380 * i) for i in range(3)]
    passes = [sample(columns[0], noise, "Pass 1")]
    for iteration in (1, 2):
        column = columns[iteration]
        passes.append(sample(column, reinit(column, passes[-1], iteration), f"Pass {iteration + 1}"))
    below = max(column.y for column in columns)
    save_video(graph, Column(graph, 1610, below, width=360), checkpoint, passes[0], "output",
               "TemporalNoise/freeinit_by_hand_pass1", "Pass 1 (no FreeInit)")
    save_video(graph, Column(graph, 2370, below, width=360), checkpoint, passes[-1], "output",
               "TemporalNoise/freeinit_by_hand_pass3", "Pass 3 (FreeInit)")
    return graph


WORKFLOWS: dict[str, Callable[[], Graph]] = {
    "01_freeinit_animatediff_t2v.json": text_to_video,
    "02_freeinit_animatediff_controlnet.json": controlnet_video,
    "04_freeinit_by_hand.json": freeinit_by_hand,
}


def main() -> None:
    WORKFLOWS_DIR.mkdir(exist_ok=True)
    for name, build in WORKFLOWS.items():
        text = json.dumps(build().to_json(name), indent=1, ensure_ascii=False) + "\n"
        (WORKFLOWS_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote workflows/{name}")


if __name__ == "__main__":
    main()
