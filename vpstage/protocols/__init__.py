"""Pure wire codecs for tracking protocols: bytes in and out, no sockets, no threads.

* ``freed``: FreeD D1 position messages, D0 commands, the checksum, a serial-stream resynchroniser.
* ``opentrackio``: the OpenTrackIO packet header, Fletcher-16, segmentation and reassembly, and
  JSON/CBOR samples to and from ``CameraSample``.
* ``osc_map``: configurable OSC address maps (which OSC arguments are which sample fields).
* ``osc_wire``: a structural check of OSC datagrams (limits) before python-osc parses them.

Each codec raises its module's ``ParseError`` (a ``ValueError``) with a short ``reason`` that
receivers use as a counter key (all reasons: ``errors.BAD_REASONS``). Facts:
``../shared/reference/protocols.md`` §1-3.
"""
