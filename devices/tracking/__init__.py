"""Tracking I/O: receivers (FreeD over UDP and serial, OpenTrackIO, OSC), the TrackingHub that feeds
per-camera buffers, and a simulator that sends the real protocols. See docs/tracking.md."""
