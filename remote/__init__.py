"""Remote viewing and control: a web page with the live camera view over WebRTC and a small
HTTP + JSON control API, for the director, DP and VAD on a tablet (issue 23).

One aiohttp application on one asyncio event loop (its own thread) serves the viewer page, the
API under ``/api/`` and the WebRTC signalling (aiortc runs on the same loop): no ASGI server.
The package sits above ``ui/`` and ``render/`` (import-linter layers): the headless ``main.py
run`` drives a ``LiveEngine`` directly (:mod:`remote.engine_controls`); the console hands in
controls that go through its own command path (:mod:`remote.console_controls`).
"""
