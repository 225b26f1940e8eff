"""ComfyUI custom node "Save to Draftroom": copy this folder into ComfyUI/custom_nodes/."""

from .node import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
