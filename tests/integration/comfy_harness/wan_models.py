"""Random-weight Wan 2.1 files as Comfy-Org repackages them: T2V 1.3B, UMT5-XXL (scaled fp8), VAE.

The networks are ComfyUI's own classes in the configurations ComfyUI detects from the real files, built
on the meta device: nothing is allocated until :mod:`.safetensors_stream` writes each tensor, block by
block, so the 5.7 B parameter text encoder never exists in memory. The diffusion model and the VAE are
fp16. The text encoder is laid out as ``umt5_xxl_fp8_e4m3fn_scaled``: every Linear weight in fp8 (e4m3fn)
with a float32 ``scale_weight`` beside it, a ``scaled_fp8`` marker, the other tensors in fp16, and its
SentencePiece tokenizer model as the uint8 tensor ``spiece_model`` (UMT5's special ids: pad 0, eos 1,
unk 2). The fp8 weights are N(0, 1) times the scale WEIGHT_STD, so they use fp8's normal range.

Runs in the generator's child process, with ComfyUI importable.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import torch

from .safetensors_stream import PlannedTensor, constant

# What ComfyUI's detection derives from wan2.1_t2v_1.3B_fp16.safetensors (comfy/model_detection.py).
WAN21_T2V_1_3B_CONFIG = {
    "image_model": "wan2.1", "model_type": "t2v", "dim": 1536, "ffn_dim": 8960, "num_heads": 12,
    "num_layers": 30, "in_dim": 16, "out_dim": 16, "patch_size": (1, 2, 2), "freq_dim": 256,
    "window_size": (-1, -1), "qk_norm": True, "cross_attn_norm": True, "eps": 1e-6,
}  # fmt: skip
# The Wan 2.1 VAE's configuration in comfy/sd.py (16 latent channels, 4x temporal compression).
WAN21_VAE_CONFIG = {
    "dim": 96, "z_dim": 16, "dim_mult": [1, 2, 4, 4], "num_res_blocks": 2, "attn_scales": [],
    "temperal_downsample": [False, True, True], "dropout": 0.0,
}  # fmt: skip
# Text the tokenizer model is trained on: enough pieces to split any prompt (bytes cover the rest).
TOKENIZER_TEXT = (
    "a red fox trotting through fresh snow in a pine forest, soft morning light, highly detailed, cinematic",
    "blurry, low quality, watermark, text, deformed, flicker, smooth motion, a ball rolling on grass",
)


def random_block(kind: str, shape: tuple[int, ...], dtype: torch.dtype, generator: torch.Generator,
                 std: float) -> torch.Tensor:
    if kind == "normal":
        return torch.empty(shape).normal_(0.0, std, generator=generator).to(dtype)
    return (torch.zeros if kind == "zeros" else torch.ones)(shape, dtype=dtype)


def planned_parameters(module: torch.nn.Module, generator: torch.Generator, prefix: str = "",
                       fp8_linear: bool = False) -> list[PlannedTensor]:
    """``module``'s state dict (built on the meta device) as planned random tensors, fp16.

    With ``fp8_linear``, Linear weights are fp8 N(0, 1) with a ``scale_weight`` of WEIGHT_STD after them.
    Raises ``ValueError`` for a buffer, which has no random value to plan.
    """
    from .model_files import WEIGHT_STD, init_kind

    parameters = dict(module.named_parameters())
    planned = []
    for key, tensor in module.state_dict(keep_vars=True).items():
        if key not in parameters:
            raise ValueError(f"{key} is a buffer: no random value is planned for it")
        shape, kind = tuple(tensor.shape), init_kind(module, key)
        owner_name = key.rpartition(".")[0]
        if fp8_linear and kind == "normal" and isinstance(module.get_submodule(owner_name), torch.nn.Linear):
            def block(first, rows, shape=shape):
                return random_block("normal", (rows, *shape[1:]), torch.float8_e4m3fn, generator, 1.0)

            planned.append(PlannedTensor(prefix + key, shape, torch.float8_e4m3fn, block))
            planned.append(constant(f"{prefix}{owner_name}.scale_weight", torch.tensor(WEIGHT_STD)))
            continue

        def block(first, rows, shape=shape, kind=kind):
            return random_block(kind, (rows, *shape[1:]), torch.float16, generator, WEIGHT_STD)

        planned.append(PlannedTensor(prefix + key, shape, torch.float16, block))
    return planned


def parameter_count(module: torch.nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


def meta_state(planned: list[PlannedTensor]) -> dict[str, torch.Tensor]:
    """Shapes and dtypes without data, for ComfyUI's detection functions."""
    return {tensor.key: torch.empty(tensor.shape, dtype=tensor.dtype, device="meta") for tensor in planned}


def wan21_t2v_1_3b(generator: torch.Generator) -> tuple[list[PlannedTensor], int]:
    """Wan 2.1 T2V 1.3B under the unprefixed keys of the diffusion-model file."""
    import comfy.model_detection
    import comfy.ops
    import comfy.supported_models
    from comfy.ldm.wan.model import WanModel

    with torch.device("meta"):
        network = WanModel(**WAN21_T2V_1_3B_CONFIG, device="meta", operations=comfy.ops.disable_weight_init)
    planned = planned_parameters(network, generator)
    detected = comfy.model_detection.model_config_from_unet(meta_state(planned), "")
    if type(detected) is not comfy.supported_models.WAN21_T2V or detected.unet_config["dim"] != 1536:
        raise RuntimeError(f"ComfyUI detects the random Wan model as {type(detected).__name__}")
    return planned, parameter_count(network)


def wan21_vae(generator: torch.Generator) -> tuple[list[PlannedTensor], int]:
    """The Wan 2.1 video VAE (causal 3-D convolutions, 8x spatial and 4x temporal compression)."""
    from comfy.ldm.wan.vae import WanVAE

    with torch.device("meta"):
        network = WanVAE(**WAN21_VAE_CONFIG)
    planned = planned_parameters(network, generator)
    keys = {tensor.key for tensor in planned}
    # comfy/sd.py's VAE detection: a Wan VAE, and not the 2.2 one.
    if "decoder.middle.0.residual.0.gamma" not in keys or "decoder.upsamples.0.upsamples.0.residual.2.weight" in keys:
        raise RuntimeError("ComfyUI would not detect the random VAE as Wan 2.1's")
    return planned, parameter_count(network)


def tokenizer_model() -> bytes:
    """A small SentencePiece model with UMT5's special ids; byte fallback encodes any text."""
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(TOKENIZER_TEXT * 8), model_writer=model, model_type="bpe", vocab_size=400,
        hard_vocab_limit=False, byte_fallback=True, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
        num_threads=1, minloglevel=2,
    )  # fmt: skip
    return model.getvalue()


def umt5_xxl_fp8_scaled(generator: torch.Generator) -> tuple[list[PlannedTensor], int]:
    """The UMT5-XXL encoder (24 blocks, d_model 4096, 256384 tokens) in the scaled fp8 layout."""
    import comfy.ops
    import comfy.sd
    import comfy.text_encoders.t5
    from comfy.text_encoders.sd3_clip import t5_xxl_detect

    config_path = Path(comfy.text_encoders.t5.__file__).with_name("umt5_config_xxl.json")
    config = json.loads(config_path.read_text())
    with torch.device("meta"):
        network = comfy.text_encoders.t5.T5(config, torch.float16, "meta", comfy.ops.manual_cast)
    spiece = torch.frombuffer(bytearray(tokenizer_model()), dtype=torch.uint8)
    planned = [
        *planned_parameters(network, generator, fp8_linear=True),
        constant("scaled_fp8", torch.empty(0, dtype=torch.float8_e4m3fn)),
        constant("spiece_model", spiece),
    ]
    state = meta_state(planned)
    detected = t5_xxl_detect(state)
    if comfy.sd.detect_te_model(state) != comfy.sd.TEModel.T5_XXL or detected.get("t5xxl_scaled_fp8") is None:
        raise RuntimeError(f"ComfyUI would not load the random text encoder as scaled fp8 UMT5-XXL: {detected}")
    return planned, parameter_count(network)
