"""Random-weight model files of the real architectures, for running graphs in a real ComfyUI.

The networks are ComfyUI's and AnimateDiff-Evolved's own classes in the SD1.5 configuration (UNet, VAE,
CLIP-L text encoder; ControlNet with 3 hint channels; AnimateDiff motion modules v2 with mid block and
v3), so ComfyUI's and ADE's model detection recognise them. Weights are drawn from N(0, 0.02²),
normalisation scales are 1 and biases 0; buffers (the motion module's sinusoidal position encoding) are
kept as the modules compute them. Files are fp16 safetensors under the key names ComfyUI's loaders read.
Such models turn out coloured noise: tests check structure (shapes, counts, status), never image content.

The Wan 2.1 files (diffusion model, scaled-fp8 UMT5-XXL text encoder, VAE; 9.8 GB) come from
wan_models.py and are generated only when asked for (``WAN21_FILES``).

Generation imports ComfyUI (argument parsing, device probing, several GB of tensors), so it runs as this
module's ``__main__`` (``python -m comfy_harness.model_files``) in a child process of ComfyUI's Python.
The test process only calls :func:`ensure_model_files`, which keeps the files already present.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# Bump when the generated content changes: files stamped with another version are generated again.
GENERATOR_VERSION = "1"
STAMP_KEY = "temporal_noise_random_weights"
WEIGHT_STD = 0.02
SEED = 20240101


@dataclass(frozen=True)
class ModelFile:
    """A generated file: ``folder`` is ComfyUI's model folder kind, ``name`` what its loader lists."""

    kind: str
    folder: str
    name: str

    def path(self, root: Path) -> Path:
        return root / self.folder / self.name


SD15_CHECKPOINT = ModelFile("sd15_checkpoint", "checkpoints", "tn_random_sd15.safetensors")
MOTION_MODULE_V2 = ModelFile("motion_module_v2", "animatediff_models", "tn_random_mm_sd15_v2.safetensors")
MOTION_MODULE_V3 = ModelFile("motion_module_v3", "animatediff_models", "tn_random_mm_sd15_v3.safetensors")
SD15_CONTROLNET = ModelFile("sd15_controlnet", "controlnet", "tn_random_controlnet_sd15.safetensors")
# The Wan 2.1 files under the names of Comfy-Org's repackaged files, which workflow 06 loads.
WAN21_T2V_1_3B = ModelFile("wan21_t2v_1_3b", "diffusion_models", "wan2.1_t2v_1.3B_fp16.safetensors")
UMT5_XXL_FP8_SCALED = ModelFile("umt5_xxl_fp8_scaled", "text_encoders", "umt5_xxl_fp8_e4m3fn_scaled.safetensors")
WAN21_VAE = ModelFile("wan21_vae", "vae", "wan_2.1_vae.safetensors")
SD15_FILES = (SD15_CHECKPOINT, MOTION_MODULE_V2, MOTION_MODULE_V3, SD15_CONTROLNET)
WAN21_FILES = (WAN21_T2V_1_3B, UMT5_XXL_FP8_SCALED, WAN21_VAE)  # 9.8 GB: generated only when asked for
MODEL_FILES = SD15_FILES + WAN21_FILES
MODEL_FOLDERS = tuple(sorted({model.folder for model in MODEL_FILES}))


def is_current(path: Path) -> bool:
    """Whether ``path`` is a complete safetensors file stamped by this generator version."""
    try:
        with path.open("rb") as file:
            (header_size,) = struct.unpack("<Q", file.read(8))
            header = json.loads(file.read(header_size))
    except (OSError, ValueError, struct.error):
        return False
    return header.get("__metadata__", {}).get(STAMP_KEY) == GENERATOR_VERSION


def ensure_model_files(
    root: Path, comfyui_path: Path, python: str = sys.executable, timeout_s: float = 1200.0,
    models: tuple[ModelFile, ...] = SD15_FILES,
) -> Path:
    """Generate the ``models`` missing (or stale) under ``root`` and return ``root``.

    Runs this module with ComfyUI's ``python`` in a child process; raises ``RuntimeError`` with the tail of
    its output if it fails or takes longer than ``timeout_s``.
    """
    missing = [model.kind for model in models if not is_current(model.path(root))]
    if missing:
        command = [python, "-m", f"{__package__}.model_files", str(comfyui_path), str(root), *missing]
        search_path = [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, search_path))}
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout_s, cwd=comfyui_path, env=env, check=False
            )
        except subprocess.TimeoutExpired as error:
            raise RuntimeError(f"model generation took longer than {timeout_s:.0f} s: {command}") from error
        if result.returncode != 0:
            tail = (result.stdout + result.stderr)[-4000:]
            raise RuntimeError(f"model generation failed (exit {result.returncode}):\n{tail}")
    return root


# ---------------------------------------------------------------------------------------------------
# Everything below runs in the child process, with ComfyUI importable.

# The UNet configuration ComfyUI's model detection derives from the original SD1.5 checkpoint.
SD15_UNET_CONFIG = {
    "use_checkpoint": False,
    "image_size": 32,
    "out_channels": 4,
    "use_spatial_transformer": True,
    "legacy": False,
    "adm_in_channels": None,
    "in_channels": 4,
    "model_channels": 320,
    "num_res_blocks": [2, 2, 2, 2],
    "transformer_depth": [1, 1, 1, 1, 1, 1, 0, 0],
    "channel_mult": [1, 2, 4, 4],
    "transformer_depth_middle": 1,
    "use_linear_in_transformer": False,
    "context_dim": 768,
    "num_heads": 8,
    "transformer_depth_output": [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
    "use_temporal_attention": False,
    "use_temporal_resblock": False,
}
# The KL autoencoder configuration ComfyUI uses for SD1.5's VAE.
SD15_VAE_CONFIG = {
    "double_z": True,
    "z_channels": 4,
    "resolution": 256,
    "in_channels": 3,
    "out_ch": 3,
    "ch": 128,
    "ch_mult": [1, 2, 4, 4],
    "num_res_blocks": 2,
    "attn_resolutions": [],
    "dropout": 0.0,
}
MOTION_MODULE_POSITIONS = 32  # v2 and v3 encode 32 frame positions (v1: 24)


def init_kind(module, key: str) -> str:
    """How parameter ``key`` of ``module`` starts: "zeros" (biases), "ones" (normalisation scales: torch's
    norms and classes named like one, e.g. RMSNorm, T5LayerNorm, Wan's RMS_norm) or "normal"."""
    import torch

    owner_name, _, leaf = key.rpartition(".")
    if leaf == "bias":
        return "zeros"
    owner = module.get_submodule(owner_name)
    norms = (torch.nn.GroupNorm, torch.nn.LayerNorm)
    return "ones" if isinstance(owner, norms) or "norm" in type(owner).__name__.lower() else "normal"


def random_state_dict(module, generator) -> dict:
    """``module``'s state dict in fp16: weights ~ N(0, std²), norm scales 1, biases 0, buffers as built."""
    import torch

    state = {}
    for key, tensor in module.state_dict(keep_vars=True).items():
        kind = init_kind(module, key)
        if not isinstance(tensor, torch.nn.Parameter):
            value = tensor.detach()
        elif kind == "zeros":
            value = torch.zeros(tensor.shape)
        elif kind == "ones":
            value = torch.ones(tensor.shape)
        else:
            value = torch.empty(tensor.shape).normal_(0.0, WEIGHT_STD, generator=generator)
        state[key] = value.to(torch.float16).contiguous()
    return state


def parameter_count(module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def sd15_checkpoint(generator) -> tuple[dict, int]:
    """UNet, VAE and CLIP-L under ``model.diffusion_model.``, ``first_stage_model.``, ``cond_stage_model.``."""
    import comfy.ldm.models.autoencoder
    import comfy.ldm.modules.diffusionmodules.openaimodel
    import comfy.model_detection
    import comfy.sd1_clip
    import comfy.supported_models

    config = comfy.supported_models.SD15(SD15_UNET_CONFIG)
    state, count = {}, 0
    networks = (
        (lambda: comfy.ldm.modules.diffusionmodules.openaimodel.UNetModel(**config.unet_config, device="cpu"),
         config.process_unet_state_dict_for_saving),
        (lambda: comfy.ldm.models.autoencoder.AutoencoderKL(ddconfig=SD15_VAE_CONFIG, embed_dim=4),
         config.process_vae_state_dict_for_saving),
        (lambda: comfy.sd1_clip.SD1ClipModel(device="cpu"), config.process_clip_state_dict_for_saving),
    )
    for build, to_checkpoint_keys in networks:
        network = build()
        count += parameter_count(network)
        state.update(to_checkpoint_keys(random_state_dict(network, generator)))
        del network
    detected = comfy.model_detection.model_config_from_unet(state, "model.diffusion_model.")
    if type(detected) is not comfy.supported_models.SD15:
        raise RuntimeError(f"ComfyUI detects the random checkpoint as {type(detected).__name__}, not SD15")
    return state, count


def sd15_controlnet(generator) -> tuple[dict, int]:
    """An SD1.5 ControlNet with 3 hint channels under ``control_model.``, as the original files."""
    import comfy.cldm.cldm
    import comfy.model_detection
    import comfy.supported_models

    config = comfy.supported_models.SD15(SD15_UNET_CONFIG).unet_config
    config.pop("out_channels")
    network = comfy.cldm.cldm.ControlNet(hint_channels=3, device="cpu", **config)
    state = {f"control_model.{key}": value for key, value in random_state_dict(network, generator).items()}
    detected = comfy.model_detection.model_config_from_unet(state, "control_model.", True)
    if type(detected) is not comfy.supported_models.SD15:
        raise RuntimeError(f"ComfyUI detects the random ControlNet as {type(detected).__name__}, not SD15")
    return state, parameter_count(network)


def motion_module(generator, version: str, name: str) -> tuple[dict, int]:
    """An SD1.5 AnimateDiff motion module, ``version`` "v2" (with mid block) or "v3" (without)."""
    import comfy.ops
    import torch
    from animatediff.motion_module_ad import (
        AnimateDiffFormat,
        AnimateDiffInfo,
        AnimateDiffModel,
        normalize_ad_state_dict,
    )
    from animatediff.utils_model import ModelTypeSD

    # AnimateDiffModel sizes itself from key names: these mark an SD1.5 module (4 down/up blocks, two
    # temporal self-attentions, 32 positions) and, for v2, its mid block.
    layout = {
        "down_blocks.3.motion_modules.0.temporal_transformer.transformer_blocks.0.attention_blocks.1"
        ".pos_encoder.pe": torch.empty(1, MOTION_MODULE_POSITIONS, 1),
        "up_blocks.3.motion_modules.0.temporal_transformer.proj_in.weight": torch.empty(0),
    }
    if version == "v2":
        layout["mid_block.motion_modules.0.temporal_transformer.proj_in.weight"] = torch.empty(0)
    info = AnimateDiffInfo(ModelTypeSD.SD1_5, AnimateDiffFormat.ANIMATEDIFF, version, name)
    network = AnimateDiffModel(layout, info, init_kwargs={"ops": comfy.ops.disable_weight_init})
    state = random_state_dict(network, generator)
    _, detected = normalize_ad_state_dict(dict(state), name)
    if (detected.sd_type, detected.mm_format, detected.mm_version) != (
        ModelTypeSD.SD1_5, AnimateDiffFormat.ANIMATEDIFF, version
    ):
        raise RuntimeError(f"ADE detects the random motion module {version} as {detected.get_string()}")
    return state, parameter_count(network)


def find_animatediff_evolved(comfyui_path: Path) -> Path:
    for candidate in sorted((comfyui_path / "custom_nodes").iterdir()):
        if (candidate / "animatediff" / "motion_module_ad.py").is_file():
            return candidate
    raise RuntimeError(f"AnimateDiff-Evolved is not installed in {comfyui_path / 'custom_nodes'}")


def generate(comfyui_path: Path, root: Path, kinds: list[str]) -> None:
    """Write the model files named by ``kinds`` (``ModelFile.kind``) under ``root``; print a line each."""
    sys.path[:0] = [str(comfyui_path), str(find_animatediff_evolved(comfyui_path))]
    from comfy.cli_args import args

    args.cpu = True  # networks are built and filled on the CPU whatever accelerator the machine has
    import comfy.utils
    import torch

    from . import wan_models
    from .safetensors_stream import write_safetensors

    builders = {
        SD15_CHECKPOINT.kind: sd15_checkpoint,
        SD15_CONTROLNET.kind: sd15_controlnet,
        MOTION_MODULE_V2.kind: lambda generator: motion_module(generator, "v2", MOTION_MODULE_V2.name),
        MOTION_MODULE_V3.kind: lambda generator: motion_module(generator, "v3", MOTION_MODULE_V3.name),
    }
    streamed = {  # planned tensor by tensor (see wan_models.py), never whole in memory
        WAN21_T2V_1_3B.kind: wan_models.wan21_t2v_1_3b,
        UMT5_XXL_FP8_SCALED.kind: wan_models.umt5_xxl_fp8_scaled,
        WAN21_VAE.kind: wan_models.wan21_vae,
    }
    for model in MODEL_FILES:
        if model.kind not in kinds:
            continue
        start = time.perf_counter()
        generator = torch.Generator().manual_seed(SEED)
        path = model.path(root)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        metadata = {STAMP_KEY: GENERATOR_VERSION}
        if model.kind in streamed:
            state, count = streamed[model.kind](generator)
            write_safetensors(partial, state, metadata)
        else:
            state, count = builders[model.kind](generator)
            comfy.utils.save_torch_file(state, str(partial), metadata=metadata)
        partial.replace(path)
        del state
        print(
            f"{model.name}: {count / 1e6:.1f} M parameters, {path.stat().st_size / 2**20:.0f} MiB, "
            f"{time.perf_counter() - start:.1f} s",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("comfyui_path", type=Path, help="ComfyUI folder (with AnimateDiff-Evolved installed)")
    parser.add_argument("root", type=Path, help="folder to write checkpoints/, controlnet/, ... into")
    parser.add_argument("kinds", nargs="*", help="model kinds to write (default: the SD1.5 ones)")
    args = parser.parse_args(argv)
    kinds = args.kinds or [model.kind for model in SD15_FILES]
    unknown = set(kinds) - {model.kind for model in MODEL_FILES}
    if unknown:
        parser.error(f"unknown model kinds {sorted(unknown)}")
    generate(args.comfyui_path.resolve(), args.root.resolve(), kinds)


if __name__ == "__main__":
    main()
