"""Camera Motion Flow node: pan, zoom and rotation per frame → FLOW, without a source video."""

from __future__ import annotations

from ..kernels.motion.camera_motion import camera_motion_flow
from .preview import flow_preview
from .validation import checks_widget_inputs


@checks_widget_inputs
class CameraMotionFlow:
    DESCRIPTION = (
        "A FLOW for camera-like motion without a source video: every frame the picture moves by the pan, "
        "scales by the zoom and turns by the rotation about the frame centre. Feed it to Integral Noise Warp "
        "so the noise, and with it the generated video, moves like a camera."
    )
    CATEGORY = "temporal_noise/flow"
    FUNCTION = "compute"
    RETURN_TYPES = ("FLOW", "IMAGE")
    RETURN_NAMES = ("flow", "preview")
    OUTPUT_TOOLTIPS = (
        "Exact forward and backward flow of the motion (no occlusion inside the frame).",
        "The motion of each frame since the previous one as colour (hue = direction, white = still).",
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "frames": ("INT", {"default": 16, "min": 2, "max": 4096,
                                   "tooltip": "Number of video frames (pixel frames, before any VAE compression)."}),
                "width": ("INT", {"default": 512, "min": 16, "max": 16384, "step": 8,
                                  "tooltip": "Frame width in pixels: the size of the video you generate."}),
                "height": ("INT", {"default": 512, "min": 16, "max": 16384, "step": 8,
                                   "tooltip": "Frame height in pixels: the size of the video you generate."}),
                "pan_x": ("FLOAT", {"default": 0.0, "min": -1024.0, "max": 1024.0, "step": 0.1,
                                    "tooltip": "Pixels per frame the picture moves right (negative: left); a "
                                               "camera panning left moves the picture right."}),
                "pan_y": ("FLOAT", {"default": 0.0, "min": -1024.0, "max": 1024.0, "step": 0.1,
                                    "tooltip": "Pixels per frame the picture moves down (negative: up)."}),
                "zoom": ("FLOAT", {"default": 1.0, "min": 0.5, "max": 2.0, "step": 0.001,
                                   "tooltip": "Scale factor per frame about the centre: above 1 zooms in (the "
                                              "picture grows), below 1 zooms out."}),
                "rotate": ("FLOAT", {"default": 0.0, "min": -45.0, "max": 45.0, "step": 0.1,
                                     "tooltip": "Degrees per frame the picture turns about the centre, "
                                                "counter-clockwise on screen (negative: clockwise)."}),
            }
        }

    def compute(self, frames: int, width: int, height: int, pan_x: float, pan_y: float, zoom: float,
                rotate: float):
        flow = camera_motion_flow(frames, height, width, pan_x=pan_x, pan_y=pan_y, zoom=zoom,
                                  rotate_degrees=rotate)
        return (flow, flow_preview(flow)[0])


NODE_CLASS_MAPPINGS = {"TemporalNoiseCameraMotionFlow": CameraMotionFlow}
NODE_DISPLAY_NAME_MAPPINGS = {"TemporalNoiseCameraMotionFlow": "Camera Motion Flow"}
