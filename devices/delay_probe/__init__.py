"""The outside-world half of the delay probe (``main.py measure-delay``): the probe's camera path
for the tracker simulator, a delay line that holds tracking packets back by a known amount (to
check the tool), and the watchers that timestamp what the wall shows (an NDI receiver on a
canvas, or a camera through OpenCV). The signal maths is ``vpstage.tracking.delay_measure``; the
engine orchestration ``live.delay_probe``."""

from devices.delay_probe.delay_line import DelayLine
from devices.delay_probe.motion import probe_path
from devices.delay_probe.watchers import CaptureWatcher, NdiWatcher, PictureSample, ndi_100ns_to_count

__all__ = ["CaptureWatcher", "DelayLine", "NdiWatcher", "PictureSample", "ndi_100ns_to_count", "probe_path"]
