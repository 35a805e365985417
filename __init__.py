"""ComfyUI-TemporalNoise: FreeInit and infinite-resolution integral noise warping for video diffusion."""

# ComfyUI (and standalone.load_pack) import this folder as a package. pytest may import this file on its
# own while collecting tests/ (when the folder's name is not an identifier, e.g. ComfyUI-TemporalNoise):
# then there is no package to import the nodes from, and nothing to register.
if __package__:
    from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

    __all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
