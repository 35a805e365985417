"""ComfyUI-TemporalNoise: FreeInit and infinite-resolution integral noise warping for video diffusion."""

from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
