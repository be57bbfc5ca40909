"""The outside world: tracking receivers, NDI/SDI outputs, Videohub, GPU telemetry, video encoding,
and simulators that speak the real protocols."""
