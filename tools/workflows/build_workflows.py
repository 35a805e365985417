"""Write the pack's example workflows ``workflows/*.json`` (run: ``python tools/workflows/build_workflows.py``).

Each workflow is built from the node definitions (``workflow_defs.py``) so slots, widget order and links are
what the ComfyUI frontend saves; ``tests/test_workflows.py`` then checks the files independently of this script.
Edit a workflow here and rebuild, or edit it in ComfyUI and save it over the file: the checks hold either way.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACK_ROOT = HERE.parents[1]
sys.path.insert(0, str(PACK_ROOT))
sys.path.insert(0, str(HERE))

from standalone import load_pack  # noqa: E402

load_pack()

from workflow_builder import Graph, Node  # noqa: E402
from workflow_defs import all_definitions  # noqa: E402

WORKFLOWS_DIR = PACK_ROOT / "workflows"
GAP = 70  # vertical space between stacked nodes (their title bars are 30 px)


@dataclass(frozen=True)
class ModelFile:
    """A model file a loader needs. Declared in the loader's ``properties.models`` (as ComfyUI's own templates do),
    it makes the frontend list the file with its download link when the workflow opens without it."""

    name: str
    url: str
    directory: str  # the ComfyUI models folder the loader lists

    def declared(self) -> dict:
        return {"name": self.name, "url": self.url, "directory": self.directory}


HF = "https://huggingface.co"
# The URLs ComfyUI's templates and docs use (SD1.5, Wan 2.1), the ControlNet 1.1 fp16 safetensors of
# comfyanonymous and the AnimateDiff authors' own motion module.
SD15_CHECKPOINT = ModelFile(
    "v1-5-pruned-emaonly-fp16.safetensors",
    f"{HF}/Comfy-Org/stable-diffusion-v1-5-archive/resolve/main/v1-5-pruned-emaonly-fp16.safetensors?download=true",
    "checkpoints")
MOTION_MODULE = ModelFile("v3_sd15_mm.ckpt", f"{HF}/guoyww/animatediff/resolve/main/v3_sd15_mm.ckpt",
                          "animatediff_models")
CANNY_CONTROLNET = ModelFile(
    "control_v11p_sd15_canny_fp16.safetensors",
    f"{HF}/comfyanonymous/ControlNet-v1-1_fp16_safetensors/resolve/main/control_v11p_sd15_canny_fp16.safetensors",
    "controlnet")
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

    def loader(self, node_type: str, widget: str, model: ModelFile, widgets: dict | None = None) -> Node:
        """A loader with ``model`` selected in ``widget`` and declared in its properties."""
        node = self.add(node_type, {widget: model.name, **(widgets or {})})
        node.models = [model.declared()]
        return node

    def primitive(self, kind: str, value, title: str) -> Node:
        node = self.graph.primitive(kind, value, (self.x, self.y), title)
        self.y = node.bottom + GAP
        return node

    def note(self, text: str, height: float, width: float | None = None, title: str = "Note") -> Node:
        node = self.graph.note(text, (self.x, self.y), (width or self.width, height), title)
        self.y = node.bottom + GAP
        return node


@dataclass
class AnimateDiffSetup:
    """The SD1.5 + AnimateDiff part every AnimateDiff workflow starts with (first two columns)."""

    graph: Graph
    checkpoint: Node
    model: Node  # the ADE evolved-sampling MODEL
    positive: Node
    negative: Node
    controlnet: Node | None


MODELS_FIRST = ("Pick the models first (below). A missing one is listed with its download link when the workflow "
                "opens; without the models the run stops at the loaders, outlined in red, while the parts that need "
                "none (previews) still run and show as done in the queue.")
MOTION_MODULE_DOWNLOAD = ("ComfyUI downloads only .safetensors files itself: get the motion module from "
                          "huggingface.co/guoyww/animatediff into models/animatediff_models.")
NOTE_EXTRA_HEIGHT = 90  # the MODELS_FIRST paragraph
MOTION_MODULE_EXTRA_HEIGHT = 40


def models_first(note: str, also: str = "") -> str:
    """The note with MODELS_FIRST (and ``also``) after its title line."""
    title, body = note.split("\n\n", 1)
    return f"{title}\n\n{' '.join(filter(None, (MODELS_FIRST, also)))}\n\n{body}"


def animatediff_setup(note: str, note_height: float, controlnet: bool = False) -> AnimateDiffSetup:
    """Checkpoint, AnimateDiff motion module (ADE Gen2), optional ControlNet loader, prompts and the note."""
    graph = Graph(all_definitions())
    models = Column(graph, 0)
    checkpoint = models.loader("CheckpointLoaderSimple", "ckpt_name", SD15_CHECKPOINT)
    motion = models.loader("ADE_LoadAnimateDiffModel", "model_name", MOTION_MODULE)
    apply = models.add("ADE_ApplyAnimateDiffModelSimple")
    evolved = models.add("ADE_UseEvolvedSampling", {"beta_schedule": "autoselect"})
    graph.link(motion, 0, apply, "motion_model")
    graph.connect(evolved, model=(checkpoint, "MODEL"), m_models=apply)
    loader = models.loader("ACN_ControlNetLoaderAdvanced", "cnet", CANNY_CONTROLNET) if controlnet else None
    text = Column(graph, 380, width=400)
    positive = text.add("CLIPTextEncode", {"text": POSITIVE}, title="Positive prompt")
    negative = text.add("CLIPTextEncode", {"text": NEGATIVE}, title="Negative prompt")
    for node in (positive, negative):
        graph.link(checkpoint, "CLIP", node, "clip")
    text.note(models_first(note, MOTION_MODULE_DOWNLOAD), note_height + NOTE_EXTRA_HEIGHT + MOTION_MODULE_EXTRA_HEIGHT)
    return AnimateDiffSetup(graph, checkpoint, evolved, positive, negative, loader)


def load_video(column: Column) -> Node:
    return column.add("VHS_LoadVideo", {"video": INPUT_VIDEO, "force_rate": 8, "custom_width": SIZE,
                                        "custom_height": SIZE, "frame_load_cap": FRAMES})


def apply_controlnet(setup: AnimateDiffSetup, column: Column, hint: Node) -> Node:
    """Advanced-ControlNet on the prompts with the ``hint`` images (one per frame)."""
    apply = column.add("ACN_AdvancedControlNetApply_v2", {"strength": 0.8})
    setup.graph.connect(apply, positive=setup.positive, negative=setup.negative, control_net=setup.controlnet,
                               image=hint)
    return apply


def save_video(graph: Graph, column: Column, checkpoint: Node, latent: Node, output: int | str, prefix: str,
               title: str) -> Node:
    decode = column.add("VAEDecode", width=210)
    graph.connect(decode, samples=(latent, output), vae=(checkpoint, "VAE"))
    combine = column.add("VHS_VideoCombine", {"filename_prefix": prefix, **VIDEO}, width=360, title=title)
    graph.link(decode, 0, combine, "images")
    return combine


def save_freeinit_videos(graph: Graph, x: float, checkpoint: Node, sampler: Node, prefix: str, title: str) -> None:
    """FreeInit Sampler's result, and every pass side by side (``<prefix>_passes``), in two columns from ``x``."""
    save_video(graph, Column(graph, x, width=360), checkpoint, sampler, "latent", prefix, title)
    save_video(graph, Column(graph, x + 430, width=360), checkpoint, sampler, "all_iterations", f"{prefix}_passes",
               "Every pass side by side")


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
    setup = animatediff_setup(NOTE_T2V, 420)
    graph, checkpoint, model = setup.graph, setup.checkpoint, setup.model
    positive, negative = setup.positive, setup.negative
    setup = Column(graph, 850)
    latent = setup.add("EmptyLatentImage", LATENT)
    lowpass = setup.add("TemporalNoiseFrequencyFilter")
    preview = setup.add("PreviewImage", title="Filter: white = kept from the previous pass", height=300)
    graph.link(lowpass, "preview", preview, "images")
    sampling = Column(graph, 1230)
    sampler = sampling.add("TemporalNoiseFreeInitSampler", {**SAMPLING, "iterations": 5})
    graph.connect(sampler, model=model, positive=positive, negative=negative, latent_image=latent,
                  filter=(lowpass, "filter"))
    save_freeinit_videos(graph, 1610, checkpoint, sampler, "TemporalNoise/freeinit_t2v", "FreeInit result")
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
- Load Advanced ControlNet Model: control_v11p_sd15_canny_fp16.safetensors (for other hints swap the Canny \
node for a preprocessor and pick e.g. control_v11f1p_sd15_depth_fp16 or control_v11p_sd15_openpose_fp16).

ControlNet strength 0.8 leaves AnimateDiff room for motion; FreeInit uses 3 passes with a butterworth \
filter (n = 4), the authors' demo setting."""


def controlnet_video() -> Graph:
    setup = animatediff_setup(NOTE_CONTROLNET, 440, controlnet=True)
    graph, checkpoint, model = setup.graph, setup.checkpoint, setup.model
    source = Column(graph, 850)
    video = load_video(source)
    edges = source.add("Canny")
    graph.link(video, "IMAGE", edges, "image")
    hints = source.add("PreviewImage", title="Control hints", height=300)
    graph.link(edges, 0, hints, "images")
    control = Column(graph, 1230)
    apply = apply_controlnet(setup, control, edges)
    latent = control.add("EmptyLatentImage", LATENT)
    graph.link(video, "frame_count", latent, "batch_size")
    lowpass = control.add("TemporalNoiseFrequencyFilter", {"filter_type": "butterworth"})
    sampling = Column(graph, 1610)
    sampler = sampling.add("TemporalNoiseFreeInitSampler", {**SAMPLING, "iterations": 3})
    graph.connect(sampler, model=model, positive=(apply, "positive"), negative=(apply, "negative"), latent_image=latent,
                  filter=(lowpass, "filter"))
    save_freeinit_videos(graph, 1990, checkpoint, sampler, "TemporalNoise/freeinit_controlnet",
                         "FreeInit + ControlNet result")
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
    setup = animatediff_setup(NOTE_BY_HAND, 470)
    graph, checkpoint, model = setup.graph, setup.checkpoint, setup.model
    positive, negative = setup.positive, setup.negative
    parts = Column(graph, 850)
    seed = parts.primitive("INT", SEED, "seed")
    noise = parts.add("RandomNoise", {"noise_seed": SEED})
    guider = parts.add("CFGGuider", {"cfg": CFG})
    select = parts.add("KSamplerSelect", {"sampler_name": SAMPLER})
    sigmas = parts.add("BasicScheduler", {"scheduler": SCHEDULER, "steps": STEPS})
    latent = parts.add("EmptyLatentImage", LATENT)
    graph.link(seed, 0, noise, "noise_seed")
    graph.connect(guider, model=model, positive=positive, negative=negative)
    graph.link(model, 0, sigmas, "model")
    filters = Column(graph, 1230)
    used = filters.add("TemporalNoiseFrequencyFilter", {"filter_type": "butterworth"}, title="Frequency Filter (used)")
    used_preview = filters.add("PreviewImage", title="butterworth n = 4", height=260)
    paper = filters.add("TemporalNoiseFrequencyFilter", title="Frequency Filter (paper default)")
    paper_preview = filters.add("PreviewImage", title="gaussian 0.25 / 0.25", height=260)
    graph.link(used, "preview", used_preview, "images")
    graph.link(paper, "preview", paper_preview, "images")

    def sample(column: Column, start: Node, title: str) -> Node:
        node = column.add("SamplerCustomAdvanced", title=title)
        schedule = sigmas if start is noise else (start, "sigmas")  # later passes: from the re-noise level
        graph.connect(node, noise=start, guider=guider, sampler=select, sigmas=schedule, latent_image=latent)
        return node

    def reinit(column: Column, previous: Node, iteration: int) -> Node:
        node = column.add("TemporalNoiseNoiseReinit", {"seed": SEED, "iteration": iteration},
                          title=f"Noise Reinit {iteration}")
        graph.connect(node, model=model, samples=(previous, "output"), sigmas=sigmas, seed=seed,
                            filter=(used, "filter"), latent_image=latent, initial_noise=noise)
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


NOTE_VID2VID = """Video-to-video with warped noise: Optical Flow → Integral Noise Warp → SamplerCustomAdvanced

What it shows: the noise follows the motion of your video. Optical Flow (OpenCV, no weights to download) \
measures how every pixel moves; Integral Noise Warp carries each noise frame into the next along that flow, \
keeping it exactly Gaussian (Deng et al. 2024), in the shape of the encoded latent. The video is \
re-rendered with denoise 0.6 (BasicScheduler): the warped noise makes the new details move with the scene \
instead of boiling. A ControlNet on the same video keeps the structure.

Pick:
- Load Video: your clip (16 frames at 8 fps, 512x512).
- Load Checkpoint: any SD1.5 checkpoint; Load AnimateDiff Model: v3_sd15_mm.ckpt (or mm_sd_v15_v2.ckpt).
- Load Advanced ControlNet Model: control_v11p_sd15_canny_fp16.safetensors (edges from the Canny node).

Lower denoise keeps more of the input; degradation above 0 on Integral Noise Warp gives the model more \
freedom where the motion matters less. The previews show the flow (colour = direction) and the noise \
beside the frames."""


def video_to_video() -> Graph:
    setup = animatediff_setup(NOTE_VID2VID, 470, controlnet=True)
    graph, checkpoint, model = setup.graph, setup.checkpoint, setup.model
    source = Column(graph, 850)
    video = load_video(source)
    encode = source.add("VAEEncode", width=210)
    edges = source.add("Canny")
    graph.connect(encode, pixels=(video, "IMAGE"), vae=(checkpoint, "VAE"))
    graph.link(video, "IMAGE", edges, "image")
    motion = Column(graph, 1230)
    flow = motion.add("TemporalNoiseOpticalFlow")
    warp = motion.add("TemporalNoiseIntegralNoiseWarp", {"seed": SEED})
    graph.link(video, "IMAGE", flow, "images")
    graph.connect(warp, images=(video, "IMAGE"), flow=(flow, "flow"), latent=encode)
    previews = Column(graph, 1610)
    flow_preview = previews.add("PreviewImage", title="Flow (colour = direction)", height=260)
    noise_preview = previews.add("PreviewImage", title="Frames and warped noise", height=260)
    graph.link(flow, "preview", flow_preview, "images")
    graph.link(warp, "preview", noise_preview, "images")
    sampling = Column(graph, 1990)
    apply = apply_controlnet(setup, sampling, edges)
    guider = sampling.add("CFGGuider", {"cfg": CFG})
    graph.connect(guider, model=model, positive=(apply, "positive"), negative=(apply, "negative"))
    select = sampling.add("KSamplerSelect", {"sampler_name": SAMPLER})
    sigmas = sampling.add("BasicScheduler", {"scheduler": SCHEDULER, "steps": STEPS, "denoise": 0.6})
    graph.link(model, 0, sigmas, "model")
    render = Column(graph, 2370)
    sampler = render.add("SamplerCustomAdvanced")
    graph.connect(sampler, noise=(warp, "noise"), guider=guider, sampler=select, sigmas=sigmas, latent_image=encode)
    outputs = Column(graph, 2750, width=360)
    save_video(graph, outputs, checkpoint, sampler, "output", "TemporalNoise/warped_vid2vid", "Re-rendered video")
    return graph


NOTE_CAMERA = """Warped noise into FreeInit: Camera Motion Flow → Integral Noise Warp → FreeInit Sampler

What it shows: motion without a source video. Camera Motion Flow describes a camera move (here a slow \
pan of 2 px per frame and a slight zoom); Integral Noise Warp turns it into noise that moves the same way \
(exactly Gaussian in every frame, Deng et al. 2024), and the FreeInit Sampler starts from that noise \
(initial_noise) and re-noises every pass with it, so FreeInit's consistency and the camera motion add up. \
A second Integral Noise Warp (another seed) feeds fresh_noise: the high frequencies of the later passes \
then move with the camera too, instead of flickering.

The video size primitives feed both the latent and the camera, so the flow always matches the latent: \
change them there.

Pick: an SD1.5 checkpoint (Load Checkpoint) and the AnimateDiff motion module v3_sd15_mm.ckpt (or \
mm_sd_v15_v2.ckpt). Try pan_x -4 / 4, zoom 1.02 (push in) or 0.98 (pull out), rotate 1°. FreeInit: 3 \
passes, butterworth filter n = 4 (the authors' demo); the second video shows every pass side by side."""


def camera_motion_freeinit() -> Graph:
    setup = animatediff_setup(NOTE_CAMERA, 430)
    graph, checkpoint, model = setup.graph, setup.checkpoint, setup.model
    positive, negative = setup.positive, setup.negative
    size = Column(graph, 850)
    frames, width, height = (size.primitive("INT", value, title)
                             for value, title in ((FRAMES, "frames"), (SIZE, "width"), (SIZE, "height")))
    latent = size.add("EmptyLatentImage", LATENT)
    camera = size.add("TemporalNoiseCameraMotionFlow", {"frames": FRAMES, "width": SIZE, "height": SIZE,
                                                         "pan_x": 2.0, "zoom": 1.005})
    for primitive, latent_input, camera_input in ((frames, "batch_size", "frames"), (width, "width", "width"),
                                                 (height, "height", "height")):
        graph.link(primitive, 0, latent, latent_input)
        graph.link(primitive, 0, camera, camera_input)
    noise = Column(graph, 1230)
    warp = noise.add("TemporalNoiseIntegralNoiseWarp", {"seed": SEED})
    graph.connect(warp, flow=(camera, "flow"), latent=latent)
    fresh = noise.add("TemporalNoiseIntegralNoiseWarp", {"seed": SEED + 1}, title="Fresh warped noise")
    graph.connect(fresh, flow=(camera, "flow"), latent=latent)
    lowpass = noise.add("TemporalNoiseFrequencyFilter", {"filter_type": "butterworth"})
    noise_preview = noise.add("PreviewImage", title="Camera flow and warped noise", height=260)
    graph.link(warp, "preview", noise_preview, "images")
    sampling = Column(graph, 1610)
    sampler = sampling.add("TemporalNoiseFreeInitSampler", {**SAMPLING, "iterations": 3})
    graph.connect(sampler, model=model, positive=positive, negative=negative, latent_image=latent,
                  filter=(lowpass, "filter"), initial_noise=(warp, "noise"), fresh_noise=(fresh, "noise"))
    save_freeinit_videos(graph, 1990, checkpoint, sampler, "TemporalNoise/camera_freeinit", "Result")
    return graph


WAN_FILES = f"{HF}/Comfy-Org/Wan_2.1_ComfyUI_repackaged/resolve/main/split_files"
WAN_MODEL = ModelFile("wan2.1_t2v_1.3B_fp16.safetensors",
                      f"{WAN_FILES}/diffusion_models/wan2.1_t2v_1.3B_fp16.safetensors?download=true",
                      "diffusion_models")
WAN_TEXT_ENCODER = ModelFile(
    "umt5_xxl_fp8_e4m3fn_scaled.safetensors",
    f"{WAN_FILES}/text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors?download=true", "text_encoders")
WAN_VAE = ModelFile("wan_2.1_vae.safetensors", f"{WAN_FILES}/vae/wan_2.1_vae.safetensors?download=true", "vae")
WAN_SIZE = {"width": 832, "height": 480}
WAN_LENGTH = 33
NOTE_WAN = """Wan 2.1 text-to-video with FreeInit and warped noise (core loaders, 5-D video latents)

What it shows: the pack's nodes on a native video model. The latent is [batch, 16 channels, frames, h, w] \
with the Wan VAE's 4x temporal compression: 33 video frames are 9 latent frames. Camera Motion Flow \
describes 33 video frames; Integral Noise Warp (temporal_factor 4) warps noise along it and keeps the \
first frame and every 4th, so the noise matches the latent. The FreeInit Sampler starts from that noise and \
reinitialises the low frequencies of the flow-matching model's result (3 passes, coarse-to-fine so the \
early passes are cheaper); a second warp (another seed) gives the later passes their fresh high frequencies.

Each later pass re-noises the previous result to the level that keeps keep_percent of it (default on flow \
models: 30 %) and samples the schedule from there: at the start of the schedule, as the paper does, a \
shift-8 model would keep about 0.01 % and the later passes would only re-draw fine detail. Set iterations \
to 1 to sample once from the warped noise. If you add a context-windows node (WAN \
Context Windows, LTXV), turn its freenoise option off: it shuffles the noise frames and destroys warped and \
FreeInit noise.

Keep Camera Motion Flow's frames, width and height equal to the latent's length, width and height.

Models (Comfy-Org/Wan_2.1_ComfyUI_repackaged):
- Load Diffusion Model: wan2.1_t2v_1.3B_fp16.safetensors (models/diffusion_models); the 14B works too.
- Load CLIP: umt5_xxl_fp8_e4m3fn_scaled.safetensors, type wan (models/text_encoders).
- Load VAE: wan_2.1_vae.safetensors (models/vae).
Sampling follows ComfyUI's Wan template: shift 8, uni_pc / simple, 30 steps, cfg 6, 832x480."""


@dataclass
class WanSetup:
    """The Wan part of a Wan workflow: models shifted as ComfyUI's Wan templates do, prompts, VAE and the note."""

    graph: Graph
    models: list[Node]  # each diffusion model through ModelSamplingSD3, in the order given
    positive: Node
    negative: Node
    vae: Node


def wan_setup(note: str, note_height: float, *diffusion_models: ModelFile) -> WanSetup:
    """Diffusion models (each with shift 8), UMT5 text encoder and Wan 2.1 VAE (first column), prompts and the note."""
    graph = Graph(all_definitions())
    column = Column(graph, 0, width=380)
    models = []
    for model in diffusion_models:
        unet = column.loader("UNETLoader", "unet_name", model)
        models.append(column.add("ModelSamplingSD3", {"shift": 8.0}))
        graph.link(unet, 0, models[-1], "model")
    clip = column.loader("CLIPLoader", "clip_name", WAN_TEXT_ENCODER, {"type": "wan"})
    vae = column.loader("VAELoader", "vae_name", WAN_VAE)
    text = Column(graph, 440, width=400)
    positive = text.add("CLIPTextEncode", {"text": POSITIVE}, title="Positive prompt")
    negative = text.add("CLIPTextEncode", {"text": NEGATIVE}, title="Negative prompt")
    for node in (positive, negative):
        graph.link(clip, 0, node, "clip")
    text.note(models_first(note), note_height + NOTE_EXTRA_HEIGHT)
    return WanSetup(graph, models, positive, negative, vae)


def save_wan_video(graph: Graph, column: Column, vae: Node, latent: Node, output: int | str, prefix: str,
                   title: str | None = None) -> Node:
    """Decode, make a 16 fps video (Wan's frame rate) and save it with core nodes, as ComfyUI's Wan templates do."""
    decode = column.add("VAEDecode", width=210)
    graph.connect(decode, samples=(latent, output), vae=vae)
    create = column.add("CreateVideo", {"fps": 16.0})
    graph.link(decode, 0, create, "images")
    save = column.add("SaveVideo", {"filename_prefix": prefix}, height=300, title=title)
    graph.link(create, 0, save, "video")
    return save


def wan_text_to_video() -> Graph:
    setup = wan_setup(NOTE_WAN, 640, WAN_MODEL)
    graph, (shift,), positive, negative = setup.graph, setup.models, setup.positive, setup.negative
    video = Column(graph, 910)
    latent = video.add("EmptyHunyuanLatentVideo", {**WAN_SIZE, "length": WAN_LENGTH}, title="Wan latent video")
    camera = video.add("TemporalNoiseCameraMotionFlow", {"frames": WAN_LENGTH, **WAN_SIZE, "pan_x": 2.0,
                                                          "zoom": 1.005})
    warp = video.add("TemporalNoiseIntegralNoiseWarp", {"seed": SEED, "temporal_factor": 4})
    graph.connect(warp, flow=(camera, "flow"), latent=latent)
    fresh = video.add("TemporalNoiseIntegralNoiseWarp", {"seed": SEED + 1, "temporal_factor": 4},
                      title="Fresh warped noise")
    graph.connect(fresh, flow=(camera, "flow"), latent=latent)
    previews = Column(graph, 1290)
    lowpass = previews.add("TemporalNoiseFrequencyFilter", {"preview_frames": 9})
    noise_preview = previews.add("PreviewImage", title="Camera flow and warped noise", height=260)
    graph.link(warp, "preview", noise_preview, "images")
    sampling = Column(graph, 1670)
    sampler = sampling.add("TemporalNoiseFreeInitSampler", {
        "seed": SEED, "steps": 30, "cfg": 6.0, "sampler_name": "uni_pc", "scheduler": "simple", "iterations": 3,
        "coarse_to_fine": True})
    graph.connect(sampler, model=shift, positive=positive, negative=negative, latent_image=latent,
                  filter=(lowpass, "filter"), initial_noise=(warp, "noise"), fresh_noise=(fresh, "noise"))
    save_wan_video(graph, Column(graph, 2050, width=360), setup.vae, sampler, "latent",
                   "TemporalNoise/wan_freeinit_warped")
    return graph


WAN22_FILES = f"{HF}/Comfy-Org/Wan_2.2_ComfyUI_Repackaged/resolve/main/split_files"
WAN22_HIGH_NOISE = ModelFile(
    "wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors",
    f"{WAN22_FILES}/diffusion_models/wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors?download=true",
    "diffusion_models")
WAN22_LOW_NOISE = ModelFile(
    "wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors",
    f"{WAN22_FILES}/diffusion_models/wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors?download=true",
    "diffusion_models")
# ComfyUI's Wan 2.2 14B template: euler / simple, 20 steps, the high-noise model for the first 10, cfg 3.5.
WAN22_STEPS = 20
WAN22_HAND_OVER = 10
# The share of each pass's result the later passes keep: re-noised to σ = 0.9, above the hand-over (σ ≈ 0.889 at
# step 10 of 20 with shift 8), so that the level falls in the high-noise part; the flow default, 30 %, does not.
WAN22_KEEP_PERCENT = 10.0
NOTE_WAN22 = """Wan 2.2 FreeInit by hand: two models per pass (high noise, then low noise)

What it shows: Wan 2.2 A14B samples with two models. SplitSigmas cuts the schedule at step 10 of 20: the \
high-noise model samples the first part from RandomNoise, the low-noise model the rest from where it stopped \
(DisableNoise), as ComfyUI's Wan 2.2 template does. FreeInit adds passes 2 and 3: Noise Reinit re-noises the \
previous pass's video with the same initial noise, keeps its low spatio-temporal frequencies (Frequency Filter) \
and takes the high ones from fresh noise; its noise and its sigmas go to the high-noise sampler of the next \
pass, and the low-noise sampler keeps its part of the schedule. The seed primitive feeds RandomNoise and both \
Noise Reinit nodes: keep them equal, with iteration 1, 2 along the chain.

keep_percent: by default (0) Noise Reinit keeps 30 % of the previous result on flow models such as Wan (sigma \
0.7). That level must fall in the high-noise part, which here ends at sigma 0.889 (step 10 of 20, shift 8); \
Noise Reinit stops with an error saying so otherwise. keep_percent 10 (sigma 0.9) keeps about as much as fits. \
To keep 30 %, run the later passes on the low-noise model alone: give Noise Reinit low_sigmas, connect its noise \
and sigmas to that pass's low-noise sampler (latent_image: the empty latent) and remove the pass's high-noise \
sampler. If you add a context-windows node (WAN Context \
Windows, LTXV), turn its freenoise option off: it shuffles the noise frames and destroys FreeInit noise.

Models (Comfy-Org/Wan_2.2_ComfyUI_Repackaged; the text encoder from Wan_2.1_ComfyUI_repackaged):
- Load Diffusion Model: wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors (top) and \
wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors (below it), in models/diffusion_models.
- Load CLIP: umt5_xxl_fp8_e4m3fn_scaled.safetensors, type wan (models/text_encoders).
- Load VAE: wan_2.1_vae.safetensors (models/vae): Wan 2.2 A14B uses the Wan 2.1 VAE.
Sampling follows ComfyUI's Wan 2.2 template: shift 8 on both models, euler / simple, 20 steps, cfg 3.5; 832x480 \
and 33 frames here keep three passes affordable (the template makes 1280x704, 121 frames). The videos are pass \
1 (no FreeInit) and pass 3."""


def wan22_freeinit_by_hand() -> Graph:
    setup = wan_setup(NOTE_WAN22, 760, WAN22_HIGH_NOISE, WAN22_LOW_NOISE)
    graph, (high, low), positive, negative = setup.graph, setup.models, setup.positive, setup.negative
    parts = Column(graph, 910)
    seed = parts.primitive("INT", SEED, "seed")
    noise = parts.add("RandomNoise", {"noise_seed": SEED})
    no_noise = parts.add("DisableNoise")
    select = parts.add("KSamplerSelect", {"sampler_name": "euler"})
    schedule = parts.add("BasicScheduler", {"scheduler": "simple", "steps": WAN22_STEPS})
    split = parts.add("SplitSigmas", {"step": WAN22_HAND_OVER}, title="SplitSigmas (hand-over step)")
    latent = parts.add("EmptyHunyuanLatentVideo", {**WAN_SIZE, "length": WAN_LENGTH}, title="Wan latent video")
    graph.link(seed, 0, noise, "noise_seed")
    graph.link(high, 0, schedule, "model")
    graph.link(schedule, 0, split, "sigmas")
    guiders = Column(graph, 1290)
    high_guider = guiders.add("CFGGuider", {"cfg": 3.5}, title="CFGGuider (high-noise model)")
    low_guider = guiders.add("CFGGuider", {"cfg": 3.5}, title="CFGGuider (low-noise model)")
    for guider, model in ((high_guider, high), (low_guider, low)):
        graph.connect(guider, model=model, positive=positive, negative=negative)
    lowpass = guiders.add("TemporalNoiseFrequencyFilter", {"preview_frames": 9})

    def sample_pass(column: Column, start: Node, number: int) -> Node:
        """The high-noise sampler from ``start`` (RandomNoise, or Noise Reinit with its sigmas), then the low-noise
        sampler on the low sigmas from where it stopped."""
        first = column.add("SamplerCustomAdvanced", title=f"Pass {number}: high-noise model")
        sigmas = (split, "high_sigmas") if start is noise else (start, "sigmas")
        graph.connect(first, noise=start, guider=high_guider, sampler=select, sigmas=sigmas, latent_image=latent)
        second = column.add("SamplerCustomAdvanced", title=f"Pass {number}: low-noise model")
        graph.connect(second, noise=no_noise, guider=low_guider, sampler=select, sigmas=(split, "low_sigmas"),
                      latent_image=(first, "output"))
        return second

    def reinit(column: Column, previous: Node, iteration: int) -> Node:
        node = column.add("TemporalNoiseNoiseReinit", {"seed": SEED, "iteration": iteration,
                                                        "keep_percent": WAN22_KEEP_PERCENT},
                          title=f"Noise Reinit {iteration}")
        graph.connect(node, model=high, samples=(previous, "output"), sigmas=(split, "high_sigmas"), seed=seed,
                      filter=(lowpass, "filter"), latent_image=latent, initial_noise=noise)
        return node

    columns = [Column(graph, 1670 + 380 * i) for i in range(3)]
    passes = [sample_pass(columns[0], noise, 1)]
    for iteration in (1, 2):
        column = columns[iteration]
        passes.append(sample_pass(column, reinit(column, passes[-1], iteration), iteration + 1))
    below = max(column.y for column in columns)
    save_wan_video(graph, Column(graph, 1670, below, width=360), setup.vae, passes[0], "output",
                   "TemporalNoise/wan22_freeinit_by_hand_pass1", "Pass 1 (no FreeInit)")
    save_wan_video(graph, Column(graph, 2430, below, width=360), setup.vae, passes[-1], "output",
                   "TemporalNoise/wan22_freeinit_by_hand_pass3", "Pass 3 (FreeInit)")
    return graph


# ComfyUI's template browser shows a pack's workflows by file name, and serves "<name>.jpg" beside each as its
# thumbnail (tools/workflows/thumbnails.py makes them): the names are the titles users read.
WORKFLOWS: dict[str, Callable[[], Graph]] = {
    "1 FreeInit text to video (AnimateDiff).json": text_to_video,
    "2 FreeInit with ControlNet (AnimateDiff).json": controlnet_video,
    "3 Warped noise video to video (AnimateDiff).json": video_to_video,
    "4 FreeInit built from sampler nodes.json": freeinit_by_hand,
    "5 Camera move noise into FreeInit (AnimateDiff).json": camera_motion_freeinit,
    "6 Wan 2.1 FreeInit with warped noise.json": wan_text_to_video,
    "7 Wan 2.2 FreeInit by hand with the two-model split.json": wan22_freeinit_by_hand,
}


def main() -> None:
    WORKFLOWS_DIR.mkdir(exist_ok=True)
    for name, build in WORKFLOWS.items():
        text = json.dumps(build().to_json(name), indent=1, ensure_ascii=False) + "\n"
        (WORKFLOWS_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote workflows/{name}")


if __name__ == "__main__":
    main()
