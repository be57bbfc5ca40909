"""Video files: a streaming H.264 MP4 encoder (PyAV, NVENC when available) and MP4 box inspection."""

from devices.video.encoder import EncodedVideo, VideoEncoder, VideoEncoderError, nvenc_available
from devices.video.mp4 import top_level_boxes

__all__ = ["EncodedVideo", "VideoEncoder", "VideoEncoderError", "nvenc_available", "top_level_boxes"]
